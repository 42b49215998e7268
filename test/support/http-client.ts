/**
 * A plain HTTP client for the monitor's endpoints, and a Server-Sent Events reader that parses
 * the stream as a browser's EventSource does (fields, comments, blank line ends an event).
 * Waits are driven by what arrives, with a timeout as a safety net only.
 */
import { get, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { withTimeout } from './wait.js';

export interface HttpReply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** One request on a fresh connection (no keep-alive: nothing stays open after a test). */
export function fetchText(url: string, headers: OutgoingHttpHeaders = {}, method = 'GET', timeoutMs = 5_000): Promise<HttpReply> {
  const reply = new Promise<HttpReply>((resolve, reject) => {
    const request = httpRequest(url, { agent: false, headers, method }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
  return withTimeout(reply, timeoutMs, `${method} ${url}`);
}

export async function fetchJson<T>(url: string): Promise<{ status: number; body: T }> {
  const reply = await fetchText(url);
  return { status: reply.status, body: JSON.parse(reply.body) as T };
}

export interface SseEvent {
  readonly id: string | undefined;
  readonly event: string;
  readonly data: string;
}

/** Reads an event stream: every event in order, and the comments and retry it carried. */
export class EventReader {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  retry: number | undefined;
  readonly response: Promise<IncomingMessage>;
  readonly ended: Promise<void>;
  #buffer = '';
  #fields: { id?: string; event?: string; data: string[] } = { data: [] };
  readonly #waiters = new Set<() => void>();
  readonly #destroy: () => void;
  #isEnded = false;

  constructor(url: string, headers: OutgoingHttpHeaders = {}) {
    let markEnded: () => void = () => undefined;
    this.ended = new Promise((resolve) => (markEnded = resolve));
    const request = get(url, { agent: false, headers });
    this.#destroy = () => request.destroy();
    this.response = new Promise((resolve, reject) => {
      request.on('error', reject);
      request.on('response', (response) => {
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => this.#push(chunk));
        const end = (): void => {
          this.#isEnded = true;
          markEnded();
          for (const wake of this.#waiters) wake();
        };
        response.on('end', end);
        response.on('close', end);
        resolve(response);
      });
    });
    // A stream cut by the test itself, or refused: the waits say so.
    this.response.catch(() => undefined);
  }

  /** Resolves once `count` events have arrived in all (from the start of the stream). */
  async waitForEvents(count: number, timeoutMs = 5_000): Promise<SseEvent[]> {
    const arrived = new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (this.events.length >= count) {
          this.#waiters.delete(check);
          resolve();
        } else if (this.#isEnded) {
          this.#waiters.delete(check);
          reject(new Error(`the stream ended after ${this.events.length} of ${count} events`));
        }
      };
      this.#waiters.add(check);
      check();
    });
    await withTimeout(arrived, timeoutMs, `${count} events (got ${this.events.length})`);
    return this.events.slice(0, count);
  }

  close(): void {
    this.#destroy();
  }

  #push(chunk: string): void {
    this.#buffer += chunk;
    const lines = this.#buffer.split(/\r\n|\r|\n/);
    this.#buffer = lines.pop() ?? '';
    for (const line of lines) this.#line(line);
    for (const wake of this.#waiters) wake();
  }

  #line(line: string): void {
    if (line === '') {
      if (this.#fields.data.length > 0) this.events.push({ id: this.#fields.id, event: this.#fields.event ?? 'message', data: this.#fields.data.join('\n') });
      this.#fields = { data: [] };
      return;
    }
    if (line.startsWith(':')) {
      this.comments.push(line.slice(1).trim());
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') this.#fields.data.push(value);
    else if (field === 'id') this.#fields.id = value;
    else if (field === 'event') this.#fields.event = value;
    else if (field === 'retry') this.retry = Number(value);
  }
}
