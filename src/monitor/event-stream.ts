import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Figures } from './figures.js';

/** Samples kept for a page that opens (or reconnects): ten minutes. */
export const HISTORY = 600;
/** Viewers at once; one more is told 503. */
export const MAX_VIEWERS = 64;
/** A viewer this far behind in reading is cut off rather than buffered for. */
const MAX_BEHIND_BYTES = 256 * 1024;
/** How long a browser waits before reconnecting (the SSE `retry` field). */
const RETRY_MS = 2_000;

/**
 * `/events`: the figures as Server-Sent Events, one event a second. Each sample is serialized
 * once, and the same string is written to every viewer. `?backlog=N` sends the last N samples
 * first (a page draws its charts at once); a browser reconnecting with `Last-Event-ID` gets
 * the ones it missed.
 */
export class EventStream {
  readonly #viewers = new Set<ServerResponse>();
  readonly #history: { readonly seq: number; readonly text: string }[] = [];

  get viewers(): number {
    return this.#viewers.size;
  }

  publish(figures: Figures): void {
    const text = `id: ${figures.seq}\ndata: ${JSON.stringify(figures)}\n\n`;
    this.#history.push({ seq: figures.seq, text });
    if (this.#history.length > HISTORY) this.#history.shift();
    for (const viewer of this.#viewers) send(viewer, text);
  }

  /** Serves one viewer until it goes away or the stream is closed; `backlog`: the `?backlog=` asked for. */
  attach(request: IncomingMessage, response: ServerResponse, headers: Record<string, string>, backlog: string | null): void {
    if (this.#viewers.size >= MAX_VIEWERS) {
      response.writeHead(503, { ...headers, 'content-type': 'text/plain; charset=utf-8', 'retry-after': '10' }).end(`too many viewers (${MAX_VIEWERS})\n`);
      return;
    }
    response.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    // A comment first, so that a client sees the stream open before the first sample.
    response.write(`: multi-socket-server figures, one event a second\nretry: ${RETRY_MS}\n\n`);
    const missed = this.#missed(request.headers['last-event-id']?.toString(), Math.min(HISTORY, Math.floor(Number(backlog ?? 0)) || 0));
    if (missed.length > 0) response.write(missed.map((event) => event.text).join(''));
    this.#viewers.add(response);
    response.on('close', () => this.#viewers.delete(response));
  }

  /** What a viewer gets first: what it missed since the event it last saw, else the backlog it asked for. */
  #missed(lastEventId: string | undefined, backlog: number): readonly { readonly seq: number; readonly text: string }[] {
    const lastSeen = lastEventId === undefined || lastEventId === '' ? Number.NaN : Number(lastEventId);
    const latest = this.#history.at(-1)?.seq ?? 0;
    // An id beyond ours is from before a restart of the server: start again from the backlog.
    if (Number.isInteger(lastSeen) && lastSeen >= 0 && lastSeen <= latest) return this.#history.filter((event) => event.seq > lastSeen);
    return backlog > 0 ? this.#history.slice(-backlog) : [];
  }

  /** Ends every stream: the monitor is closing. */
  close(): void {
    for (const viewer of this.#viewers) viewer.end();
    this.#viewers.clear();
  }
}

function send(viewer: ServerResponse, text: string): void {
  if (viewer.writableLength > MAX_BEHIND_BYTES) {
    viewer.destroy();
    return;
  }
  viewer.write(text);
}
