import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { connect as connectTls } from 'node:tls';
import { WebSocket } from 'ws';
import { decodeWholeFrame, FrameDecoder } from '../../src/protocol/decoder.js';
import { ProtocolError } from '../../src/protocol/errors.js';
import { MessageType, SERVER_HEADER_KEYS, STATISTICS_REQUEST, type Frame } from '../../src/protocol/frame.js';
import { encodeClientRequest, messageTypeOf, parseStatistics } from '../../src/protocol/messages.js';
import { Histogram, type HistogramData } from './histogram.js';

/** What a chunk may be: the server's configured alphabet and length range. */
export interface ChunkRules {
  readonly alphabet: string;
  readonly minChars: number;
  readonly maxChars: number;
}

/**
 * What a crowd of checking clients counts. A count added here is reset, reported across
 * processes and summed with the others; the client says when it is bumped.
 */
const COUNTS = [
  'connectFailures',
  // Connections the server closed or reset while the client still wanted them.
  'dropped',
  'chunks',
  'symbols',
  'badChunks',
  'answersChecked',
  'answersWrong',
  'protocolErrors',
  'errorFrames',
  'shutdownFrames',
] as const;

export type TallyCounts = Record<(typeof COUNTS)[number], number>;

const zeroCounts = (): TallyCounts => Object.fromEntries(COUNTS.map((name) => [name, 0])) as TallyCounts;

/** Everything a crowd of checking clients saw, mergeable across processes. */
export class Tally {
  /** Connections open now: a level, which a reset leaves alone. */
  connected = 0;
  readonly counts = zeroCounts();
  /** Client-side lateness: arrival gap minus the announced sleep_time, in microseconds. */
  readonly lateness = new Histogram();
  /** Statistics round trip, request written to answer decoded, in microseconds. */
  readonly roundTrip = new Histogram();
  readonly problems: string[] = [];

  /** Starts every count again from zero. */
  resetCounts(): void {
    Object.assign(this.counts, zeroCounts());
    this.lateness.reset();
    this.roundTrip.reset();
    this.problems.length = 0;
  }

  note(problem: string): void {
    if (this.problems.length < 20) this.problems.push(problem);
  }

  toJSON(): TallyData {
    return {
      connected: this.connected,
      counts: { ...this.counts },
      lateness: this.lateness.toJSON(),
      roundTrip: this.roundTrip.toJSON(),
      problems: [...this.problems],
    };
  }

  add(data: TallyData): void {
    this.connected += data.connected;
    for (const name of COUNTS) this.counts[name] += data.counts[name];
    this.lateness.add(data.lateness);
    this.roundTrip.add(data.roundTrip);
    for (const problem of data.problems) this.note(problem);
  }
}

export interface TallyData {
  readonly connected: number;
  readonly counts: Readonly<TallyCounts>;
  readonly lateness: HistogramData;
  readonly roundTrip: HistogramData;
  readonly problems: readonly string[];
}

const REQUEST = encodeClientRequest(STATISTICS_REQUEST);
const SERVER_LIMITS = { maxHeaderLength: 1024, maxContentLength: 1 << 24, requiredKeys: SERVER_HEADER_KEYS };

/** Where a checking client connects: the TCP port, or a WebSocket endpoint (the web port's `/ws`). */
export interface Target {
  readonly host: string;
  readonly port: number;
  readonly localAddress?: string;
  /** `ws`: a WebSocket to ws://host:port/ws, where every message must be exactly one frame. */
  readonly transport?: 'tcp' | 'ws';
  /** Over TCP: speak TLS, trusting the CA certificates given (PEM). */
  readonly tls?: { readonly ca: string };
}

/** What the client needs of its connection, whichever carries it. */
interface Link {
  write(data: Buffer): void;
  pause(): void;
  resume(): void;
  end(): void;
  destroy(): void;
}

/**
 * A full protocol client that trusts nothing: it decodes every frame, checks every chunk
 * against the alphabet and the length range, and checks every statistics answer against its
 * own count (the protocol's invariant). Any difference is counted and described.
 */
export class CheckingClient {
  readonly #link: Link;
  readonly #tally: Tally;
  readonly #allowed: Uint8Array;
  readonly #rules: ChunkRules;
  readonly #decoder = new FrameDecoder(SERVER_LIMITS);
  /** Send times of requests not answered yet, oldest first. */
  readonly #pending: number[] = [];
  #counted = 0;
  #lastArrival = 0;
  /** This client's worst lateness, in microseconds: a bystander is disturbed if it is too high. */
  worstLatenessUs = 0;
  /** Whether the server dropped this client. */
  dropped = false;
  #closing = false;
  #open = false;
  readonly closed: Promise<void>;

  constructor(target: Target, rules: ChunkRules, tally: Tally) {
    this.#tally = tally;
    this.#rules = rules;
    this.#allowed = new Uint8Array(256);
    for (const byte of Buffer.from(rules.alphabet, 'latin1')) this.#allowed[byte] = 1;
    let closed: () => void = () => undefined;
    this.closed = new Promise((resolve) => (closed = resolve));
    const local = target.localAddress === undefined ? {} : { localAddress: target.localAddress };
    if (target.transport === 'ws') {
      const ws = new WebSocket(`ws://${target.host}:${target.port}/ws`, { perMessageDeflate: false, ...local });
      ws.on('open', () => this.#opened());
      ws.on('message', (data: Buffer) => this.#received(data, true));
      ws.on('error', (error: NodeJS.ErrnoException) => this.#failed(error));
      ws.on('close', () => {
        this.#ended();
        closed();
      });
      this.#link = { write: (data) => ws.send(data), pause: () => ws.pause(), resume: () => ws.resume(), end: () => ws.close(1000), destroy: () => ws.terminate() };
    } else {
      const socket = target.tls === undefined ? connect({ host: target.host, port: target.port, ...local }) : connectTls({ host: target.host, port: target.port, ...local, ca: target.tls.ca });
      socket.setNoDelay(true);
      socket.on(target.tls === undefined ? 'connect' : 'secureConnect', () => this.#opened());
      socket.on('data', (data: Buffer) => this.#received(data, false));
      socket.on('error', (error: NodeJS.ErrnoException) => this.#failed(error));
      socket.on('close', () => {
        this.#ended();
        closed();
      });
      this.#link = { write: (data) => socket.write(data), pause: () => socket.pause(), resume: () => socket.resume(), end: () => socket.end(), destroy: () => socket.destroy() };
    }
  }

  #opened(): void {
    this.#open = true;
    this.#lastArrival = performance.now();
    this.#tally.connected++;
  }

  /** Bytes of the stream, or one whole WebSocket message, which must be exactly one frame. */
  #received(data: Buffer, message: boolean): void {
    try {
      if (message) this.#onFrame(decodeWholeFrame(data, SERVER_LIMITS));
      else this.#decoder.push(data, this.#onFrame);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.#tally.counts.protocolErrors++;
      this.#tally.note(`protocol error from server: ${error.code} ${error.message}`);
      this.#link.destroy();
    }
  }

  #failed(error: NodeJS.ErrnoException): void {
    if (this.#closing || this.#open) return;
    this.#tally.counts.connectFailures++;
    this.#tally.note(`connect failed: ${error.code ?? error.message}`);
  }

  #ended(): void {
    const tally = this.#tally;
    if (this.#open && !this.#closing) {
      this.dropped = true;
      tally.counts.dropped++;
      tally.note('connection dropped by the server');
    }
    if (this.#open) tally.connected--;
    this.#open = false;
  }

  /** Asks for statistics; the answer is checked when it comes. */
  requestStatistics(): void {
    if (!this.#open) return;
    this.#pending.push(performance.now());
    this.#link.write(REQUEST);
  }

  /** Stops reading, as a slow consumer would (the kernel buffers fill, then the server's). */
  pause(): void {
    this.#link.pause();
  }

  resume(): void {
    this.#link.resume();
  }

  close(): Promise<void> {
    this.#closing = true;
    this.#link.end();
    setTimeout(() => this.#link.destroy(), 2000).unref();
    return this.closed;
  }

  readonly #onFrame = (frame: Frame): void => {
    const now = performance.now();
    const tally = this.#tally;
    switch (messageTypeOf(frame)) {
      case MessageType.symbols: {
        const content = frame.content;
        const sleepMs = (frame.header.sleep_time ?? 0) * 1000;
        const latenessUs = Math.max(0, (now - this.#lastArrival - sleepMs) * 1000);
        tally.lateness.record(latenessUs);
        if (latenessUs > this.worstLatenessUs) this.worstLatenessUs = latenessUs;
        this.#lastArrival = now;
        tally.counts.chunks++;
        tally.counts.symbols += content.length;
        this.#counted += content.length;
        if (content.length < this.#rules.minChars || content.length > this.#rules.maxChars || !this.#onlyAllowed(content)) {
          tally.counts.badChunks++;
          tally.note(`bad chunk of ${content.length} bytes: ${content.subarray(0, 40).toString('latin1')}`);
        }
        break;
      }
      case MessageType.statistics: {
        const sent = this.#pending.shift();
        if (sent !== undefined) tally.roundTrip.record((now - sent) * 1000);
        const reported = parseStatistics(frame.content);
        tally.counts.answersChecked++;
        if (reported !== this.#counted || sent === undefined) {
          tally.counts.answersWrong++;
          tally.note(`statistics answer ${String(reported)} but ${this.#counted} symbols received${sent === undefined ? ' (unasked)' : ''}`);
        }
        this.#counted = 0;
        break;
      }
      case MessageType.error:
        tally.counts.errorFrames++;
        tally.note(`error frame: ${frame.content.toString('latin1')}`);
        break;
      case MessageType.shutdown:
        tally.counts.shutdownFrames++;
        this.#closing = true;
        break;
    }
  };

  #onlyAllowed(content: Buffer): boolean {
    for (const byte of content) if (this.#allowed[byte] !== 1) return false;
    return true;
  }
}
