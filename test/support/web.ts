/**
 * Helpers for tests of the web port: the real server with `--web` on port 0, WebSocket clients
 * (the `ws` library's, as any tool's) that decode and count what they receive, and raw HTTP.
 *
 * As in net.ts, every wait is driven by an event, with a timeout only as a safety net.
 */
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import { WebSocket, type ClientOptions } from 'ws';
import { decodeWholeFrame } from '../../src/protocol/decoder.js';
import { ProtocolError } from '../../src/protocol/errors.js';
import { MessageType, SERVER_HEADER_KEYS, type FrameHeader } from '../../src/protocol/frame.js';
import { encodeClientRequest, messageTypeOf, parseStatistics } from '../../src/protocol/messages.js';
import { MAX_CHUNK_LENGTH } from '../../src/protocol/defaults.js';
import { DEFAULT_SERVER_CONFIG, type ServerConfig } from '../../src/server/config.js';
import type { ServerEvent } from '../../src/server/events.js';
import { startServer, type CloseOptions, type RunningServer } from '../../src/server/server.js';
import { DEFAULT_WEB_TIMINGS, type WebConfig } from '../../src/web/config.js';
import { webPort } from '../../src/web/web-port.js';
import { EventLog } from './event-log.js';
import { DEFAULT_WAIT_MS } from './net.js';
import { withTimeout } from './wait.js';

type EventOf<K extends ServerEvent['type']> = Extract<ServerEvent, { type: K }>;

/** The real server on 127.0.0.1 with its web port, both on ephemeral ports, every event kept. */
export class WebTestServer {
  readonly config: ServerConfig;
  readonly web: WebConfig;
  // Per-chunk events are left out: a flood would keep millions of them.
  readonly #log = new EventLog<ServerEvent>((event) => event.type !== 'chunk' && event.type !== 'scheduled');
  readonly #clients = new Set<WsClient>();
  #server: RunningServer | undefined;
  #webPort = 0;

  private constructor(config: ServerConfig, web: WebConfig) {
    this.config = config;
    this.web = web;
  }

  static async start(overrides: Partial<ServerConfig> = {}, web: Partial<WebConfig> = {}): Promise<WebTestServer> {
    const config: ServerConfig = { ...DEFAULT_SERVER_CONFIG, shutdownTimeoutMs: 2_000, ...overrides, host: '127.0.0.1', port: 0 };
    const webConfig: WebConfig = { ...DEFAULT_WEB_TIMINGS, origins: [], ...web, host: '127.0.0.1', port: 0 };
    const test = new WebTestServer(config, webConfig);
    test.#server = await startServer(config, test.#emit, { web: webPort(webConfig, config) });
    return test;
  }

  get server(): RunningServer {
    if (this.#server === undefined) throw new Error('server not started');
    return this.#server;
  }

  /** The TCP port. */
  get port(): number {
    return this.server.address.port;
  }

  get webPort(): number {
    return this.#webPort;
  }

  /** Every event kept but the per-chunk ones. */
  get events(): ServerEvent[] {
    return this.#log.events;
  }

  readonly #emit = (event: ServerEvent): void => {
    if (event.type === 'web') this.#webPort = event.port;
    this.#log.record(event);
  };

  /** The first event of `type` that satisfies `where`, recorded or still to come. */
  waitForEvent<K extends ServerEvent['type']>(type: K, where: (event: EventOf<K>) => boolean = () => true, timeoutMs = DEFAULT_WAIT_MS): Promise<EventOf<K>> {
    const matches = (event: ServerEvent): event is EventOf<K> => event.type === type && where(event as EventOf<K>);
    return this.#log.waitFor(matches, `server event '${type}'`, timeoutMs);
  }

  /** Events about the connection whose local port (as the client sees it) is `port`. */
  eventsAbout(port: number): ServerEvent[] {
    return this.events.filter((event) => 'peer' in event && event.peer.port === port);
  }

  url(path: string): string {
    return `ws://127.0.0.1:${this.webPort}${path}`;
  }

  /** Opens a WebSocket to `path`; resolves once it is open. */
  async connect(path = '/ws', options: ClientOptions = {}): Promise<WsClient> {
    const client = new WsClient(this.url(path), path === '/ws/text' ? 'text' : 'binary', options);
    this.#clients.add(client);
    await client.opened;
    return client;
  }

  /** Opens a WebSocket that may be refused: resolves with the client once it is open or closed. */
  attempt(path = '/ws', options: ClientOptions = {}): WsClient {
    const client = new WsClient(this.url(path), path === '/ws/text' ? 'text' : 'binary', options);
    this.#clients.add(client);
    return client;
  }

  async stop(options: CloseOptions = {}): Promise<void> {
    for (const client of this.#clients) client.ws.terminate();
    if (this.#server !== undefined) await withTimeout(this.#server.close(options), 5_000, 'the server to close');
  }
}

/** One message the client received, decoded: a frame on /ws, a line of text on /ws/text. */
export interface WsMessage {
  readonly type: MessageType;
  /** The frame's content, or the text as bytes. */
  readonly content: Buffer;
  readonly header: FrameHeader | undefined;
  readonly text: string;
}

export interface WsAnswer {
  readonly count: number;
  readonly receivedSinceLast: number;
}

/**
 * A WebSocket client that checks every message: on /ws each must be exactly one frame (decoded
 * with the project's whole-frame decoder), on /ws/text each is read by its form.
 */
export class WsClient {
  readonly ws: WebSocket;
  readonly form: 'binary' | 'text';
  readonly messages: WsMessage[] = [];
  readonly answers: WsAnswer[] = [];
  /** Messages that were not what the endpoint promises: a server bug. */
  readonly malformed: string[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  /** The HTTP status when the upgrade was refused. */
  refusedWith: { status: number; body: string } | undefined;
  localPort = 0;
  symbolsReceived = 0;
  #sinceAnswer = 0;
  readonly #waiters = new Set<() => void>();

  constructor(url: string, form: 'binary' | 'text', options: ClientOptions) {
    this.form = form;
    this.ws = new WebSocket(url, { perMessageDeflate: false, ...options });
    this.ws.on('upgrade', (response) => (this.localPort = response.socket.localPort ?? 0));
    this.ws.on('unexpected-response', (_request, response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        this.refusedWith = { status: response.statusCode ?? 0, body };
        this.ws.terminate();
      });
    });
    this.ws.on('error', () => undefined);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('close', () => reject(new Error(`WebSocket to ${url} closed before it opened${this.refusedWith === undefined ? '' : ` (HTTP ${this.refusedWith.status})`}`)));
    });
    this.opened.catch(() => undefined);
    this.closed = new Promise((resolve) => this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    this.ws.on('message', (data: Buffer, isBinary) => {
      this.#received(data, isBinary);
      for (const wake of this.#waiters) wake();
    });
    this.ws.once('close', () => {
      for (const wake of this.#waiters) wake();
    });
  }

  #received(data: Buffer, isBinary: boolean): void {
    if (isBinary !== (this.form === 'binary')) {
      this.malformed.push(`a ${isBinary ? 'binary' : 'text'} message on a ${this.form} endpoint`);
      return;
    }
    let message: WsMessage;
    if (this.form === 'binary') {
      try {
        const frame = decodeWholeFrame(data, { maxHeaderLength: 1024, maxContentLength: MAX_CHUNK_LENGTH, requiredKeys: SERVER_HEADER_KEYS });
        message = { type: messageTypeOf(frame), content: frame.content, header: frame.header, text: frame.content.toString('latin1') };
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        this.malformed.push(`${error.code}: ${error.message}`);
        return;
      }
    } else {
      const text = data.toString('utf8');
      const type = text.startsWith('Statistics: ')
        ? MessageType.statistics
        : text.startsWith('error: ')
          ? MessageType.error
          : text.startsWith('shutdown: ')
            ? MessageType.shutdown
            : MessageType.symbols;
      message = { type, content: data, header: undefined, text };
    }
    this.messages.push(message);
    if (message.type === MessageType.symbols) {
      this.symbolsReceived += message.content.length;
      this.#sinceAnswer += message.content.length;
    } else if (message.type === MessageType.statistics) {
      this.answers.push({ count: parseStatistics(Buffer.from(message.text, 'latin1')) ?? Number.NaN, receivedSinceLast: this.#sinceAnswer });
      this.#sinceAnswer = 0;
    }
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Resolves once `condition` holds, checked at each message and at the close. */
  until(condition: () => boolean, what: string, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    if (condition()) return Promise.resolve();
    let wake: (() => void) | undefined;
    const met = new Promise<void>((resolve, reject) => {
      wake = () => {
        if (condition()) resolve();
        else if (this.ws.readyState === WebSocket.CLOSED) reject(new Error(`the WebSocket closed while waiting for ${what}`));
      };
      this.#waiters.add(wake);
    });
    return withTimeout(met, timeoutMs, what).finally(() => {
      if (wake !== undefined) this.#waiters.delete(wake);
    });
  }

  /** The first message of `type` from index `from` on, received or to come. */
  async message(type: MessageType, from = 0, timeoutMs = DEFAULT_WAIT_MS): Promise<WsMessage> {
    const find = (): WsMessage | undefined => this.messages.slice(from).find((message) => message.type === type);
    await this.until(() => find() !== undefined, `a ${type} message`, timeoutMs);
    return find() as WsMessage;
  }

  /** Waits for `count` chunks from now on. */
  async chunks(count: number, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    const target = this.messages.filter((message) => message.type === MessageType.symbols).length + count;
    await this.until(() => this.messages.filter((message) => message.type === MessageType.symbols).length >= target, `${count} chunks`, timeoutMs);
  }

  /** Asks for statistics in the endpoint's form and resolves with the answer. */
  async statistics(timeoutMs = DEFAULT_WAIT_MS): Promise<WsAnswer> {
    const n = this.answers.length;
    this.ws.send(this.form === 'binary' ? encodeClientRequest('s') : 's');
    await this.until(() => this.answers.length > n, 'a statistics answer', timeoutMs);
    return this.answers[n] as WsAnswer;
  }

  waitClosed(timeoutMs = DEFAULT_WAIT_MS): Promise<{ code: number; reason: string }> {
    return withTimeout(this.closed, timeoutMs, 'the WebSocket to close');
  }
}

/** A raw TCP connection to an HTTP port: what it answers, and when it closes. */
export class RawHttp {
  readonly socket: Socket;
  received = '';
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (this.received += chunk));
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static async connect(port: number): Promise<RawHttp> {
    const socket = connect({ host: '127.0.0.1', port });
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      }),
      DEFAULT_WAIT_MS,
      `a connection to port ${port}`,
    );
    return new RawHttp(socket);
  }

  /** The status line's code of what was received, if any. */
  get status(): number | undefined {
    const match = /^HTTP\/1\.1 (\d{3})/.exec(this.received);
    return match === null ? undefined : Number(match[1]);
  }

  waitClosed(timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    return withTimeout(this.closed, timeoutMs, 'the HTTP connection to close');
  }
}

/** A GET (or another method) to the web port: status, headers and body. */
export function httpGet(port: number, path: string, method = 'GET', headers: Record<string, string> = {}): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return withTimeout(
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
      });
      req.on('error', reject);
      req.end();
    }),
    DEFAULT_WAIT_MS,
    `${method} ${path}`,
  );
}
