import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { connect as connectTls } from 'node:tls';
import { FrameDecoder } from '../../src/protocol/decoder.js';
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

/**
 * A full protocol client that trusts nothing: it decodes every frame, checks every chunk
 * against the alphabet and the length range, and checks every statistics answer against its
 * own count (the protocol's invariant). Any difference is counted and described.
 */
export class CheckingClient {
  readonly #socket: Socket;
  readonly #tally: Tally;
  readonly #allowed: Uint8Array;
  readonly #rules: ChunkRules;
  readonly #decoder = new FrameDecoder({ maxHeaderLength: 1024, maxContentLength: 1 << 24, requiredKeys: SERVER_HEADER_KEYS });
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

  /** With `tls`, the client speaks TLS and trusts the CA certificates given (PEM). */
  constructor(target: { host: string; port: number; localAddress?: string; tls?: { ca: string } }, rules: ChunkRules, tally: Tally) {
    this.#tally = tally;
    this.#rules = rules;
    this.#allowed = new Uint8Array(256);
    for (const byte of Buffer.from(rules.alphabet, 'latin1')) this.#allowed[byte] = 1;
    const where = { host: target.host, port: target.port, ...(target.localAddress === undefined ? {} : { localAddress: target.localAddress }) };
    this.#socket = target.tls === undefined ? connect(where) : connectTls({ ...where, ca: target.tls.ca });
    this.#socket.setNoDelay(true);
    this.closed = new Promise((resolve) => this.#socket.once('close', () => resolve()));
    this.#socket.on(target.tls === undefined ? 'connect' : 'secureConnect', () => {
      this.#open = true;
      this.#lastArrival = performance.now();
      tally.connected++;
    });
    this.#socket.on('data', (data: Buffer) => {
      try {
        this.#decoder.push(data, this.#onFrame);
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        tally.counts.protocolErrors++;
        tally.note(`protocol error from server: ${error.code} ${error.message}`);
        this.#socket.destroy();
      }
    });
    this.#socket.on('error', (error: NodeJS.ErrnoException) => {
      if (this.#closing) return;
      if (!this.#open) {
        tally.counts.connectFailures++;
        tally.note(`connect failed: ${error.code ?? error.message}`);
      }
    });
    this.#socket.on('close', () => {
      if (this.#open && !this.#closing) {
        this.dropped = true;
        tally.counts.dropped++;
        tally.note('connection dropped by the server');
      }
      if (this.#open) tally.connected--;
      this.#open = false;
    });
  }

  /** Asks for statistics; the answer is checked when it comes. */
  requestStatistics(): void {
    if (!this.#open) return;
    this.#pending.push(performance.now());
    this.#socket.write(REQUEST);
  }

  /** Stops reading, as a slow consumer would (the kernel buffers fill, then the server's). */
  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  close(): Promise<void> {
    this.#closing = true;
    this.#socket.end();
    setTimeout(() => this.#socket.destroy(), 2000).unref();
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
