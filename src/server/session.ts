import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { FrameDecoder } from '../protocol/decoder.js';
import { ErrorCode, ProtocolError, UnknownRequestError } from '../protocol/errors.js';
import { CLIENT_HEADER_KEYS, MessageType, type Frame } from '../protocol/frame.js';
import { encodeServerFrame, isStatisticsRequest, serverFrameHead, statisticsText } from '../protocol/messages.js';
import type { ServerConfig } from './config.js';
import { DeliveryCounter } from './delivery-counter.js';
import type { Peer, ServerEventSink } from './events.js';
import type { SymbolGenerator, Wait } from './generator.js';
import type { Scheduler, Slot } from './scheduler.js';
import type { ServerStats } from './stats.js';

/** How long a peer we are closing on gets to read our last frame before its socket is destroyed. */
export const CLOSE_GRACE_MS = 1_000;
/** With `--interval 0-0`, frames joined into one write: one system call for many small frames. */
const BURST_FRAMES = 256;
const BURST_BYTES = 64 * 1024;
/** With `--interval 0-0`, what one client may write in one turn of the loop before the others get theirs. */
const TURN_BYTES = 1024 * 1024;
/** More than any chunk frame's prefix and header take (about 180 bytes). */
const MAX_HEAD_BYTES = 256;

/** The session a socket belongs to, so that one set of listeners serves every socket. */
const SESSION = Symbol('session');
type SessionSocket = Socket & { [SESSION]: Session };

/** A connection's place in the scheduler. */
interface SessionSlot extends Slot {
  readonly session: Session;
}

const Phase = {
  open: 0,
  /** Our last frame is written and our side ended; waiting for the socket to close. */
  closing: 1,
  closed: 2,
} as const;
type Phase = (typeof Phase)[keyof typeof Phase];

export interface SessionContext {
  readonly config: ServerConfig;
  /** The server's one timer for every connection's chunks. */
  readonly scheduler: Scheduler;
  readonly stats: ServerStats;
  /** Whether to emit 'chunk' and 'scheduled' events (see StartOptions). */
  readonly chunkEvents: boolean;
  readonly generator: SymbolGenerator;
  readonly emit: ServerEventSink;
  readonly onClosed: (session: Session) => void;
}

/**
 * One client connection: its schedule of chunks, its statistics counter, its decoder, and the
 * defences that keep one peer's behaviour its own problem.
 *
 * Nothing here blocks: each connection's schedule is its own slot in the server's timer heap,
 * so one client's wait never delays another. Writes respect backpressure: while the socket's
 * buffer is full the schedule holds its next chunk and reading stops, so the bytes queued per
 * client stay bounded by the high-water mark plus one write (a frame, or one burst of them
 * with `--interval 0-0`).
 */
export class Session {
  readonly peer: Peer;
  readonly #socket: Socket;
  readonly #context: SessionContext;
  readonly #decoder: FrameDecoder;
  readonly #counter = new DeliveryCounter();
  readonly #openedAt = performance.now();
  #phase: Phase = Phase.open;
  #chunks = 0;
  /** The wait before the last chunk; statistics answers carry it, as the original's do. */
  #lastSleep = 0;
  #nextWait = 0;
  #dueAt = 0;
  readonly #slot: SessionSlot;
  /** With a zero wait the next chunk goes out on the next turn of the loop, after I/O. */
  #scheduleImmediate: NodeJS.Immediate | undefined;
  /** The schedule's chunk came due while the socket was blocked: send it on drain. */
  #chunkOwed = false;
  #blockedAt: number | undefined;
  #slowTimer: NodeJS.Timeout | undefined;
  #frameTimer: NodeJS.Timeout | undefined;
  #graceTimer: NodeJS.Timeout | undefined;

  constructor(socket: Socket, peer: Peer, context: SessionContext) {
    this.#socket = socket;
    this.peer = peer;
    this.#context = context;
    this.#decoder = new FrameDecoder({
      maxHeaderLength: context.config.maxHeaderLength,
      maxContentLength: context.config.maxRequestLength,
      requiredKeys: CLIENT_HEADER_KEYS,
    });
    this.#slot = { due: 0, index: -1, fire: Session.#fireSlot, session: this };
    // Frames are small and each one is meant to arrive now, not when Nagle decides.
    socket.setNoDelay(true);
    // Shared listeners that find the session on the socket: with tens of thousands of
    // connections, a set of closures per connection is memory better spent elsewhere.
    (socket as SessionSocket)[SESSION] = this;
    socket.on('data', Session.#socketData);
    socket.on('drain', Session.#socketDrain);
    socket.on('end', Session.#socketEnd);
    socket.on('error', Session.#socketError);
    socket.on('close', Session.#socketClose);
  }

  /** Starts the schedule: the first chunk goes out after the first wait. */
  start(): void {
    this.#schedule();
  }

  /**
   * Tells the client the server is going away, then ends the connection. No grace timer of its
   * own: the server's shutdown deadline (`--shutdown-timeout`) decides when to cut it off.
   */
  shutdown(reason: string): void {
    if (this.#phase !== Phase.open) return;
    this.#endWith(encodeServerFrame(MessageType.shutdown, Buffer.from(reason, 'latin1'), this.#lastSleep), false);
  }

  /** Ends the connection at once, whatever is still queued. */
  destroy(): void {
    this.#socket.destroy();
  }

  // ---- the schedule -------------------------------------------------------------------------

  #schedule(): void {
    const wait = this.#context.generator.nextWait();
    this.#nextWait = wait.seconds;
    this.#dueAt = performance.now() + wait.ms;
    if (this.#context.chunkEvents) this.#context.emit({ type: 'scheduled', peer: this.peer, wait });
    this.#arm(wait.ms);
  }

  #arm(ms: number): void {
    if (ms === 0) this.#scheduleImmediate = setImmediate(Session.#immediateDue, this);
    else this.#context.scheduler.schedule(this.#slot, ms);
  }

  #onDue(): void {
    this.#scheduleImmediate = undefined;
    if (this.#phase !== Phase.open) return;
    if (this.#socket.writableNeedDrain) {
      this.#chunkOwed = true;
      return;
    }
    this.#sendChunks();
  }

  /**
   * Sends the chunk that is due. With `--interval 0-0` it goes on: frames joined into bursts,
   * one write each, for as long as the socket takes them and this turn's budget lasts, then
   * the loop gets a turn (other clients, timers) before the next burst.
   */
  #sendChunks(): void {
    const { generator, stats, chunkEvents } = this.#context;
    let turnBytes = 0;
    for (;;) {
      // One clock reading per burst: within a burst every chunk is due now.
      const now = performance.now();
      let burst: Buffer | undefined;
      let at = 0;
      let frames = 0;
      let wait: Wait;
      do {
        this.#lastSleep = this.#nextWait;
        const lateMs = now - this.#dueAt;
        const length = generator.nextLength();
        wait = generator.nextWait();
        const head = serverFrameHead(MessageType.symbols, length, this.#lastSleep);
        const size = head.length + length;
        // A chunk followed by a wait (the usual case) gets a buffer of its own size; a burst,
        // one buffer for all its frames, written in place: no buffer per frame, no copying.
        burst ??= Buffer.allocUnsafe(wait.ms > 0 ? size : this.#burstCapacity);
        burst.set(head, at);
        generator.fill(burst, at + head.length, at + size);
        if (chunkEvents) {
          const content = burst.subarray(at + head.length, at + size);
          this.#context.emit({ type: 'chunk', peer: this.peer, content, sleepTime: this.#lastSleep, frameBytes: size, lateMs });
        }
        at += size;
        frames++;
        this.#counter.add(length);
        this.#chunks++;
        stats.chunkSent(length, lateMs);
        this.#nextWait = wait.seconds;
        this.#dueAt = now + wait.ms;
      } while (wait.ms === 0 && frames < BURST_FRAMES && at < BURST_BYTES);
      this.#write(at === burst.length ? burst : burst.subarray(0, at));
      if (this.#phase !== Phase.open) return;
      if (chunkEvents) this.#context.emit({ type: 'scheduled', peer: this.peer, wait });
      turnBytes += at;
      if (wait.ms > 0) {
        this.#arm(wait.ms);
        return;
      }
      if (this.#socket.writableNeedDrain) {
        this.#chunkOwed = true;
        return;
      }
      if (turnBytes >= TURN_BYTES) {
        this.#arm(0);
        return;
      }
    }
  }

  /** Room for a whole burst: BURST_FRAMES of the largest frame, or BURST_BYTES and then one more. */
  get #burstCapacity(): number {
    const largest = this.#context.config.chars.max + MAX_HEAD_BYTES;
    return Math.min(BURST_BYTES, BURST_FRAMES * largest) + largest;
  }

  // ---- writing, with backpressure -----------------------------------------------------------

  #write(frame: Buffer): void {
    if (this.#socket.write(frame)) return;
    // write() also says false on a socket that is ended or destroyed (a peer that left):
    // that is not a full buffer, and the close that follows does the cleaning up.
    if (this.#blockedAt !== undefined || !this.#socket.writable) return;
    this.#blockedAt = performance.now();
    // Stop reading: a peer that does not read our answers must not make us queue more of them.
    this.#socket.pause();
    this.#stopFrameTimer();
    this.#context.emit({ type: 'blocked', peer: this.peer, queuedBytes: this.#socket.writableLength });
    this.#slowTimer = setTimeout(Session.#slowConsumerTimer, this.#context.config.slowClientTimeoutMs, this);
  }

  #onDrain(): void {
    if (this.#blockedAt === undefined || this.#phase !== Phase.open) return;
    const blockedMs = performance.now() - this.#blockedAt;
    this.#blockedAt = undefined;
    clearTimeout(this.#slowTimer);
    this.#slowTimer = undefined;
    this.#context.emit({ type: 'unblocked', peer: this.peer, blockedMs });
    if (this.#chunkOwed) {
      this.#chunkOwed = false;
      this.#sendChunks();
    }
    if (this.#phase !== Phase.open || this.#blockedAt !== undefined) return;
    // Requests that arrived while we were blocked are still in the decoder.
    this.#feed(Buffer.alloc(0));
    if (this.#phase === Phase.open && this.#blockedAt === undefined) this.#socket.resume();
  }

  #onSlowConsumer(): void {
    this.#slowTimer = undefined;
    const seconds = this.#context.config.slowClientTimeoutMs / 1000;
    this.#fail(new ProtocolError(ErrorCode.slowConsumer, `slow_consumer: client read nothing for ${seconds} s`));
  }

  // ---- reading ------------------------------------------------------------------------------

  #onData(data: Buffer): void {
    if (this.#phase !== Phase.open) return;
    this.#feed(data);
  }

  #feed(data: Buffer): void {
    // Answers to the requests of one read leave in one write: many requests in one packet
    // must not cost one system call each.
    this.#socket.cork();
    try {
      this.#decoder.push(data, this.#onFrame);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.#fail(error);
      return;
    } finally {
      this.#socket.uncork();
    }
    if (this.#decoder.midFrame && this.#blockedAt === undefined) this.#startFrameTimer();
    else this.#stopFrameTimer();
  }

  readonly #onFrame = (frame: Frame): boolean => {
    if (this.#phase !== Phase.open) return false;
    // Each frame gets the whole timeout: a frame that began in this read starts a new one.
    this.#stopFrameTimer();
    this.#context.emit({ type: 'request', peer: this.peer, header: frame.header, content: frame.content });
    if (isStatisticsRequest(frame)) {
      // Answered at once, never held until the next chunk: the original's flaw, fixed.
      const count = this.#counter.take();
      const content = Buffer.from(statisticsText(count), 'latin1');
      const answer = encodeServerFrame(MessageType.statistics, content, this.#lastSleep);
      this.#write(answer);
      this.#context.emit({ type: 'statistics', peer: this.peer, count, content, frameBytes: answer.length });
    } else {
      const error = new UnknownRequestError(frame.content);
      this.#context.emit({ type: 'protocol-error', peer: this.peer, error });
      this.#write(encodeServerFrame(MessageType.error, errorContent(error), this.#lastSleep));
    }
    // Keep the rest of the requests buffered while the peer is not reading our answers.
    return this.#blockedAt === undefined;
  };

  #startFrameTimer(): void {
    this.#frameTimer ??= setTimeout(Session.#frameTimeoutTimer, this.#context.config.frameTimeoutMs, this);
  }

  #stopFrameTimer(): void {
    clearTimeout(this.#frameTimer);
    this.#frameTimer = undefined;
  }

  #onFrameTimeout(): void {
    this.#frameTimer = undefined;
    const seconds = this.#context.config.frameTimeoutMs / 1000;
    this.#fail(new ProtocolError(ErrorCode.frameTimeout, `frame not completed within ${seconds} s`));
  }

  // ---- ending -------------------------------------------------------------------------------

  /** A protocol violation: report it, tell the peer why, and close this connection only. */
  #fail(error: ProtocolError): void {
    if (this.#phase !== Phase.open) return;
    this.#context.emit({ type: 'protocol-error', peer: this.peer, error });
    this.#endWith(encodeServerFrame(MessageType.error, errorContent(error), this.#lastSleep));
  }

  #endWith(lastFrame: Buffer, grace = true): void {
    this.#phase = Phase.closing;
    this.#clearSchedule();
    this.#stopFrameTimer();
    clearTimeout(this.#slowTimer);
    this.#slowTimer = undefined;
    this.#socket.end(lastFrame);
    if (grace) this.#graceTimer = setTimeout(Session.#graceOver, CLOSE_GRACE_MS, this);
  }

  #onEnd(): void {
    // The peer sent FIN: the original reports this as an error, and users know the line.
    if (this.#phase === Phase.open) this.#context.emit({ type: 'peer-closed', peer: this.peer });
  }

  #onError(error: NodeJS.ErrnoException): void {
    if (this.#phase === Phase.closed) return;
    this.#context.emit({ type: 'connection-error', peer: this.peer, error });
  }

  #onClose(): void {
    if (this.#phase === Phase.closed) return;
    this.#phase = Phase.closed;
    this.#clearSchedule();
    this.#stopFrameTimer();
    clearTimeout(this.#slowTimer);
    clearTimeout(this.#graceTimer);
    this.#slowTimer = this.#graceTimer = undefined;
    const socket = this.#socket;
    // Whatever reporting does, the session leaves the registry.
    try {
      this.#report(socket);
    } finally {
      this.#context.onClosed(this);
    }
  }

  #report(socket: Socket): void {
    this.#context.emit({
      type: 'closed',
      peer: this.peer,
      summary: {
        durationMs: performance.now() - this.#openedAt,
        chunks: this.#chunks,
        symbols: this.#counter.total,
        bytesRead: socket.bytesRead,
        bytesWritten: socket.bytesWritten,
      },
    });
  }

  // ---- entry points: every event reaches the session through one of these ----------------
  //
  // Each runs its handler guarded: a fault in it (a bug, not a peer's doing) ends this
  // connection only. It is reported and the socket destroyed, and no exception reaches the
  // process, where it would take every other client down with it.

  static #guard<A>(session: Session, handler: (this: Session, arg: A) => void, arg: A): void {
    try {
      handler.call(session, arg);
    } catch (error) {
      session.#internalError(error);
    }
  }

  static #socketData(this: Socket, data: Buffer): void {
    const session = (this as SessionSocket)[SESSION];
    Session.#guard(session, session.#onData, data);
  }

  static #socketDrain(this: Socket): void {
    const session = (this as SessionSocket)[SESSION];
    Session.#guard(session, session.#onDrain, undefined);
  }

  static #socketEnd(this: Socket): void {
    const session = (this as SessionSocket)[SESSION];
    Session.#guard(session, session.#onEnd, undefined);
  }

  static #socketError(this: Socket, error: NodeJS.ErrnoException): void {
    const session = (this as SessionSocket)[SESSION];
    Session.#guard(session, session.#onError, error);
  }

  static #socketClose(this: Socket): void {
    (this as SessionSocket)[SESSION].#onClose();
  }

  static #fireSlot(slot: Slot): void {
    Session.#immediateDue((slot as SessionSlot).session);
  }

  static #immediateDue(session: Session): void {
    Session.#guard(session, session.#onDue, undefined);
  }

  static #slowConsumerTimer(session: Session): void {
    Session.#guard(session, session.#onSlowConsumer, undefined);
  }

  static #frameTimeoutTimer(session: Session): void {
    Session.#guard(session, session.#onFrameTimeout, undefined);
  }

  static #graceOver(session: Session): void {
    session.#socket.destroy();
  }

  #internalError(error: unknown): void {
    try {
      this.#context.emit({ type: 'internal-error', peer: this.peer, error: error instanceof Error ? error : new Error(String(error)) });
    } finally {
      this.#socket.destroy();
    }
  }

  #clearSchedule(): void {
    this.#context.scheduler.cancel(this.#slot);
    clearImmediate(this.#scheduleImmediate);
    this.#scheduleImmediate = undefined;
    this.#chunkOwed = false;
  }
}

/** What an `error` frame says: the stable code first, so scripts and the original client both can read it. */
export function errorContent(error: ProtocolError): Buffer {
  return Buffer.from(`${error.code}: ${error.message}`, 'latin1');
}
