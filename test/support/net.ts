/**
 * The real server in this process and bare protocol clients, for tests that talk to it over
 * real sockets.
 *
 * Every wait here is driven by an event (a frame, a close, an event the server emitted) and
 * carries a timeout only as a safety net: when it fires, the test fails with a message saying
 * what it was waiting for, instead of hanging until the runner gives up.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { MAX_CHUNK_LENGTH } from '../../src/protocol/defaults.js';
import { DEFAULT_SERVER_CONFIG, type ServerConfig } from '../../src/server/config.js';
import type { ServerEvent } from '../../src/server/events.js';
import { startServer, type CloseOptions, type RunningServer } from '../../src/server/server.js';
import { FrameDecoder } from '../../src/protocol/decoder.js';
import { ProtocolError } from '../../src/protocol/errors.js';
import {
  CONTENT_ENCODING,
  MessageType,
  SERVER_CONTENT_TYPE,
  SERVER_HEADER_KEYS,
  type FrameHeader,
} from '../../src/protocol/frame.js';
import { encodeClientRequest, messageTypeOf, parseStatistics } from '../../src/protocol/messages.js';
import { EventLog } from './event-log.js';
import { withTimeout } from './wait.js';

/** How long any single wait may take before the test is failed; generous for a loaded machine. */
export const DEFAULT_WAIT_MS = 3_000;

// ---- the server -------------------------------------------------------------------------------

/** An emitted server event with the time it was emitted (performance.now(), ms). */
export type TimedEvent = ServerEvent & { readonly at: number };
type EventOf<K extends ServerEvent['type']> = Extract<ServerEvent, { type: K }> & { readonly at: number };

export interface TestServerOptions {
  /** Event types not kept in `events` (waiters and listeners still see them): keeps big runs small. */
  readonly unrecorded?: readonly ServerEvent['type'][];
}

/** The real server on 127.0.0.1 and an ephemeral port, with every event it emits collected. */
export class TestServer {
  readonly config: ServerConfig;
  readonly #log: EventLog<TimedEvent>;
  readonly #clients = new Set<RawClient>();
  #server: RunningServer | undefined;

  private constructor(config: ServerConfig, options: TestServerOptions) {
    this.config = config;
    const unrecorded = new Set<string>(options.unrecorded ?? []);
    this.#log = new EventLog((event) => !unrecorded.has(event.type));
  }

  static async start(overrides: Partial<ServerConfig> = {}, options: TestServerOptions = {}): Promise<TestServer> {
    const config: ServerConfig = {
      ...DEFAULT_SERVER_CONFIG,
      shutdownTimeoutMs: 2_000,
      ...overrides,
      host: '127.0.0.1',
      port: 0,
    };
    const test = new TestServer(config, options);
    test.#server = await startServer(config, test.#emit);
    return test;
  }

  get server(): RunningServer {
    if (this.#server === undefined) throw new Error('server not started');
    return this.#server;
  }

  get port(): number {
    return this.server.address.port;
  }

  /** Every event kept, each with the time it was emitted. */
  get events(): TimedEvent[] {
    return this.#log.events;
  }

  readonly #emit = (event: ServerEvent): void => {
    this.#log.record({ ...event, at: performance.now() });
  };

  /** Calls `listener` for every event from now on; returns the function that stops it. */
  onEvent(listener: (event: TimedEvent) => void): () => void {
    return this.#log.onEvent(listener);
  }

  /** Recorded events of one type, optionally about one client only. */
  eventsOf<K extends ServerEvent['type']>(type: K, client?: RawClient): EventOf<K>[] {
    return this.events.filter(
      (event): event is EventOf<K> => event.type === type && (client === undefined || isAbout(event, client)),
    );
  }

  /**
   * The first event of `type` (about `client`, if given) that satisfies `where`, among the
   * recorded ones from index `since` on, or else the next one emitted.
   */
  waitForEvent<K extends ServerEvent['type']>(
    type: K,
    options: {
      readonly client?: RawClient;
      readonly where?: (event: EventOf<K>) => boolean;
      readonly since?: number;
      readonly timeoutMs?: number;
    } = {},
  ): Promise<EventOf<K>> {
    const { client, where, since = 0, timeoutMs = DEFAULT_WAIT_MS } = options;
    const matches = (event: TimedEvent): event is EventOf<K> =>
      event.type === type && (client === undefined || isAbout(event, client)) && (where?.(event as EventOf<K>) ?? true);
    const label = client === undefined ? '' : ` about ${client.label}`;
    return this.#log.waitFor(matches, `server event '${type}'${label}`, timeoutMs, since);
  }

  /** Opens a raw client to this server; it is destroyed by stop() if still open. */
  async connect(options: RawClientOptions = {}): Promise<RawClient> {
    const client = await RawClient.connect(this.port, options);
    this.#clients.add(client);
    return client;
  }

  /** For after(): drops every client still open, then closes the server. */
  async stop(options: CloseOptions = {}): Promise<void> {
    for (const client of this.#clients) client.destroy();
    if (this.#server !== undefined) await withTimeout(this.#server.close(options), 5_000, 'the server to close');
  }
}

/**
 * Whether a server event concerns the connection of `client`: the server's peer is its local
 * end, or the source its PROXY header gave.
 */
export function isAbout(event: ServerEvent, client: RawClient): boolean {
  return 'peer' in event && event.peer.port === client.seenAs.port && event.peer.host === client.seenAs.host;
}

// ---- a raw client -----------------------------------------------------------------------------

/** A decoded server frame, as the client received it. */
export interface ReceivedFrame {
  readonly header: FrameHeader;
  readonly content: Buffer;
  readonly type: MessageType;
  /** When the frame was decoded (performance.now(), ms). */
  readonly at: number;
  /** Position among all frames this connection received, from 0. */
  readonly index: number;
}

/** A statistics answer, with what the client itself counted. */
export interface StatisticsAnswer {
  readonly frame: ReceivedFrame;
  /** The figure the server reported. */
  readonly count: number;
  /** Symbols the client received since the previous answer (or since connecting). */
  readonly receivedSinceLast: number;
  /** The sleep_time of the last symbols frame before this answer (0 if none). */
  readonly lastSleepBefore: number;
}

export interface RawClientOptions {
  /** Where to connect (default 127.0.0.1), and from which local address (default: the system's choice). */
  readonly host?: string;
  readonly localAddress?: string;
  /** Keep symbols frames for nextFrame() (default). Off, they are only counted: for floods. */
  readonly retainSymbols?: boolean;
  /** Sent first, as a load balancer does: a PROXY header, and the client address it gives, if any. */
  readonly proxy?: { readonly header: Buffer; readonly source?: { readonly host: string; readonly port: number } };
  /** TLS over the connection (after the PROXY header, if any); the connect waits for the handshake. */
  readonly tls?: ConnectionOptions;
}

interface AnswerWaiter {
  readonly n: number;
  readonly resolve: (answer: StatisticsAnswer) => void;
  readonly reject: (error: Error) => void;
}

interface FrameWaiter {
  readonly matches: (frame: ReceivedFrame) => boolean;
  readonly resolve: (frame: ReceivedFrame) => void;
  readonly reject: (error: Error) => void;
}

/**
 * A bare protocol client: connects, decodes frames with the project's decoder, and lets a test
 * take frames one by one (optionally only of one type, leaving the others queued).
 */
export class RawClient {
  readonly socket: Socket;
  /** Frames received and not yet taken by nextFrame() / statistics(). */
  readonly queue: ReceivedFrame[] = [];
  /** Every frame received, taken or not (symbols frames only if retained). */
  readonly history: ReceivedFrame[] = [];
  /** Every statistics answer, in arrival order. */
  readonly answers: StatisticsAnswer[] = [];
  /** Errors the socket reported (ECONNRESET and the like); they never throw. */
  readonly socketErrors: Error[] = [];
  readonly closed: Promise<void>;
  readonly #retainSymbols: boolean;
  readonly #decoder = new FrameDecoder({
    maxHeaderLength: 1024,
    maxContentLength: MAX_CHUNK_LENGTH,
    requiredKeys: SERVER_HEADER_KEYS,
  });
  readonly #waiters = new Set<FrameWaiter>();
  readonly #answerWaiters = new Set<AnswerWaiter>();
  /** Statistics requests sent through request(): the index the next answer will have. */
  #requested = 0;
  #frames = 0;
  #symbols = 0;
  #symbolsSinceAnswer = 0;
  #lastSleep = 0;
  #decodeError: ProtocolError | undefined;
  #endedByPeer = false;
  #isClosed = false;
  #localAddress = '';
  #localPort = 0;
  #seenAs: { readonly host: string; readonly port: number } = { host: '', port: 0 };

  private constructor(socket: Socket, options: RawClientOptions) {
    this.socket = socket;
    this.#retainSymbols = options.retainSymbols ?? true;
    socket.on('data', this.#onData);
    socket.on('end', () => (this.#endedByPeer = true));
    socket.on('error', (error) => this.socketErrors.push(error));
    this.closed = new Promise<void>((resolve) =>
      socket.once('close', () => {
        this.#isClosed = true;
        this.#rejectAll(`the connection closed (${this.#endedByPeer ? 'ended by the server' : 'no end from the server'})`);
        resolve();
      }),
    );
  }

  static async connect(port: number, options: RawClientOptions = {}): Promise<RawClient> {
    const raw = connect({ host: options.host ?? '127.0.0.1', port, localAddress: options.localAddress });
    raw.setNoDelay(true);
    const { proxy, tls } = options;
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        raw.once('connect', resolve);
        raw.once('error', reject);
      }),
      DEFAULT_WAIT_MS,
      `a connection to port ${port}`,
    );
    // The header and the ClientHello leave in one packet, as a load balancer's often do: the
    // server must hand what follows the header to TLS.
    if (proxy !== undefined && tls !== undefined) raw.cork();
    if (proxy !== undefined) raw.write(proxy.header);
    const socket = tls === undefined ? raw : connectTls({ socket: raw, ...tls });
    if (proxy !== undefined && tls !== undefined) process.nextTick(() => raw.uncork());
    const client = new RawClient(socket, options);
    if (tls !== undefined) {
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          socket.once('secureConnect', resolve);
          socket.once('error', reject);
        }),
        DEFAULT_WAIT_MS,
        `the TLS handshake with port ${port}`,
      );
    }
    // Kept: after a reset the socket no longer knows its own address, and events are matched by it.
    client.#localAddress = raw.localAddress ?? '';
    client.#localPort = raw.localPort ?? 0;
    client.#seenAs = proxy?.source ?? { host: client.#localAddress, port: client.#localPort };
    return client;
  }

  /** The address the server names this client by: its own, or its PROXY header's source. */
  get seenAs(): { readonly host: string; readonly port: number } {
    return this.#seenAs;
  }

  get localAddress(): string {
    return this.#localAddress;
  }

  get localPort(): number {
    return this.#localPort;
  }

  get label(): string {
    const seen = this.#seenAs.host === this.#localAddress && this.#seenAs.port === this.#localPort ? '' : ` (as ${this.#seenAs.host}:${this.#seenAs.port})`;
    return `client ${this.#localAddress}:${this.#localPort}${seen}`;
  }

  /** Symbols received in `symbols` frames since connecting. */
  get symbolsReceived(): number {
    return this.#symbols;
  }

  /** Symbols received since the last statistics answer. */
  get symbolsSinceAnswer(): number {
    return this.#symbolsSinceAnswer;
  }

  /** Frames decoded since connecting. */
  get framesReceived(): number {
    return this.#frames;
  }

  /** Whether the server ended the connection (we saw its FIN). */
  get endedByPeer(): boolean {
    return this.#endedByPeer;
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** A frame the client could not decode: a server bug, reported by the test that hits it. */
  get decodeError(): ProtocolError | undefined {
    return this.#decodeError;
  }

  readonly #onData = (data: Buffer): void => {
    try {
      this.#decoder.push(data, (frame) => {
        const received: ReceivedFrame = {
          header: frame.header,
          content: frame.content,
          type: messageTypeOf(frame),
          at: performance.now(),
          index: this.#frames++,
        };
        this.#onFrame(received);
      });
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.#decodeError = error;
      this.#rejectAll(`a frame the client could decode (${error.code}: ${error.message})`);
      this.socket.destroy();
    }
  };

  #onFrame(frame: ReceivedFrame): void {
    if (frame.type === MessageType.symbols) {
      this.#symbols += frame.content.length;
      this.#symbolsSinceAnswer += frame.content.length;
      this.#lastSleep = frame.header.sleep_time ?? Number.NaN;
    } else if (frame.type === MessageType.statistics) {
      const count = parseStatistics(frame.content);
      const answer: StatisticsAnswer = {
        frame,
        count: count ?? Number.NaN,
        receivedSinceLast: this.#symbolsSinceAnswer,
        lastSleepBefore: this.#lastSleep,
      };
      this.#symbolsSinceAnswer = 0;
      this.answers.push(answer);
      for (const waiter of this.#answerWaiters) {
        if (waiter.n === this.answers.length - 1) {
          this.#answerWaiters.delete(waiter);
          waiter.resolve(answer);
        }
      }
    }
    if (frame.type === MessageType.symbols && !this.#retainSymbols) return;
    this.history.push(frame);
    for (const waiter of this.#waiters) {
      if (waiter.matches(frame)) {
        this.#waiters.delete(waiter);
        waiter.resolve(frame);
        return;
      }
    }
    this.queue.push(frame);
  }

  #rejectAll(reason: string): void {
    for (const waiter of this.#waiters) waiter.reject(new Error(`${this.label}: ${reason} while waiting for a frame`));
    this.#waiters.clear();
    for (const waiter of this.#answerWaiters) {
      waiter.reject(new Error(`${this.label}: ${reason} while waiting for statistics answer #${waiter.n + 1}`));
    }
    this.#answerWaiters.clear();
  }

  /**
   * The next frame not yet taken (of `type`, if given: frames of other types stay queued).
   * Fails at once if the connection closes first.
   */
  nextFrame(type?: MessageType, timeoutMs = DEFAULT_WAIT_MS): Promise<ReceivedFrame> {
    const matches = (frame: ReceivedFrame): boolean => type === undefined || frame.type === type;
    const queued = this.queue.findIndex(matches);
    if (queued >= 0) return Promise.resolve(this.queue.splice(queued, 1)[0] as ReceivedFrame);
    const what = `${type ?? 'any'} frame on ${this.label}`;
    if (this.#isClosed || this.#decodeError !== undefined) {
      return Promise.reject(new Error(`${this.label}: connection already closed; no ${what}`));
    }
    let waiter: FrameWaiter | undefined;
    const next = new Promise<ReceivedFrame>((resolve, reject) => {
      waiter = { matches, resolve, reject };
      this.#waiters.add(waiter);
    });
    return withTimeout(next, timeoutMs, `a ${what}`).finally(() => {
      if (waiter !== undefined) this.#waiters.delete(waiter);
    });
  }

  /** Forgets the frames received so far, so that the next nextFrame() waits for a new one. */
  clearQueue(): void {
    this.queue.length = 0;
  }

  /** The next `count` frames of `type`, in order. */
  async nextFrames(count: number, type?: MessageType, timeoutMs = DEFAULT_WAIT_MS): Promise<ReceivedFrame[]> {
    const frames: ReceivedFrame[] = [];
    for (let i = 0; i < count; i++) frames.push(await this.nextFrame(type, timeoutMs));
    return frames;
  }

  /** Writes raw bytes; resolves once they are handed to the system. */
  write(bytes: Uint8Array): Promise<void> {
    return new Promise<void>((resolve, reject) => this.socket.write(bytes, (error) => (error ? reject(error) : resolve())));
  }

  /** Sends a well-formed request frame (`s` by default). */
  request(content = 's'): Promise<void> {
    if (content === 's') this.#requested++;
    return this.write(encodeClientRequest(content));
  }

  /**
   * Sends `s` and resolves with the answer to it. Symbols frames that arrive meanwhile are
   * counted and stay queued; the statistics frame is taken from the queue.
   */
  async statistics(timeoutMs = DEFAULT_WAIT_MS): Promise<StatisticsAnswer> {
    const answer = this.#answer(this.#requested, timeoutMs);
    await this.request('s');
    const result = await answer;
    this.#unqueue([result.frame]);
    return result;
  }

  /**
   * Resolves once `total` statistics answers have arrived since connecting (for requests
   * written raw), taking them from the queue; a later statistics() waits for a newer one.
   */
  async awaitAnswers(total: number, timeoutMs = DEFAULT_WAIT_MS): Promise<StatisticsAnswer[]> {
    this.#requested = Math.max(this.#requested, total);
    await this.#answer(total - 1, timeoutMs);
    const answers = this.answers.slice(0, total);
    this.#unqueue(answers.map((answer) => answer.frame));
    return answers;
  }

  /** Resolves with the n-th statistics answer (from 0) of this connection. */
  #answer(n: number, timeoutMs: number): Promise<StatisticsAnswer> {
    const known = this.answers[n];
    if (known !== undefined) return Promise.resolve(known);
    if (this.#isClosed) return Promise.reject(new Error(`${this.label}: connection already closed; no statistics answer #${n + 1}`));
    let waiter: AnswerWaiter | undefined;
    const next = new Promise<StatisticsAnswer>((resolve, reject) => {
      waiter = { n, resolve, reject };
      this.#answerWaiters.add(waiter);
    });
    return withTimeout(next, timeoutMs, `statistics answer #${n + 1} on ${this.label}`).finally(() => {
      if (waiter !== undefined) this.#answerWaiters.delete(waiter);
    });
  }

  #unqueue(frames: readonly ReceivedFrame[]): void {
    const taken = new Set(frames);
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (taken.has(this.queue[i] as ReceivedFrame)) this.queue.splice(i, 1);
    }
  }

  /** Resolves once the socket has closed (whoever closed it). */
  waitClosed(timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    return withTimeout(this.closed, timeoutMs, `${this.label} to close`);
  }

  /** Stops reading: the server's frames pile up in the system buffers, then in the server. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** Ends our side cleanly (FIN). */
  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Closes with a TCP reset instead of a FIN. */
  reset(): void {
    this.socket.resetAndDestroy();
  }
}

/** Sum of the content lengths of symbols frames. */
export function symbolsIn(frames: readonly ReceivedFrame[]): number {
  return frames.reduce((sum, frame) => sum + (frame.type === MessageType.symbols ? frame.content.length : 0), 0);
}

/** Checks the header every server frame must carry (the original client drops the connection otherwise). */
export function assertServerHeader(frame: ReceivedFrame, type: MessageType): void {
  const { header } = frame;
  assert.ok(header.byteorder === 'little' || header.byteorder === 'big', `byteorder ${String(header.byteorder)}`);
  assert.equal(header['content-type'], SERVER_CONTENT_TYPE);
  assert.equal(header['content-encoding'], CONTENT_ENCODING);
  assert.equal(header['content-length'], frame.content.length);
  assert.equal(typeof header.sleep_time, 'number', 'sleep_time is a number');
  assert.equal(header['message-type'], type);
}

/**
 * Chunks keep coming, and two statistics answers, each asked after a fresh chunk (so that it has
 * something to count), equal the symbols this client received before it.
 */
export async function assertExactAnswers(client: RawClient): Promise<void> {
  for (let i = 0; i < 2; i++) {
    client.clearQueue();
    await client.nextFrame(MessageType.symbols);
    const answer = await client.statistics();
    assert.ok(answer.count > 0, `${client.label}: some symbols were delivered`);
    assert.equal(answer.count, answer.receivedSinceLast, `${client.label}: the answer is exact`);
  }
}

/** Checks a chunk of random symbols against the server's configuration. */
export function assertChunk(frame: ReceivedFrame, config: ServerConfig): void {
  assertServerHeader(frame, MessageType.symbols);
  const { chars, interval, alphabet } = config;
  const length = frame.content.length;
  assert.ok(length >= chars.min && length <= chars.max, `chunk of ${length} symbols, outside ${chars.min}..${chars.max}`);
  const text = frame.content.toString('latin1');
  for (const symbol of text) assert.ok(alphabet.includes(symbol), `symbol ${JSON.stringify(symbol)} is not in the alphabet`);
  const sleep = frame.header.sleep_time ?? Number.NaN;
  assert.ok(sleep >= interval.min && sleep <= interval.max, `sleep_time ${sleep} outside ${interval.min}..${interval.max}`);
}
