import { performance } from 'node:perf_hooks';
import type { ProtocolError } from '../protocol/errors.js';
import { MessageType } from '../protocol/frame.js';
import { encodeServerFrame, errorContent } from '../protocol/messages.js';
import type { Transport, TransportHandler } from '../transport/transport.js';
import { ChunkSchedule } from './chunk-schedule.js';
import { DeliveryCounter } from './delivery-counter.js';
import type { Peer } from './events.js';
import { FlowControl } from './flow-control.js';
import type { SymbolGenerator } from './generator.js';
import type { ConnectionSnapshot, MonitoredConnection } from './monitoring.js';
import { RequestReader } from './requests.js';
import { dropOnFault, guarded, type SessionContext, type SessionCore } from './session-core.js';
import type { TurnTaker } from './turns.js';

/** How long a peer we are closing on gets to read our last frame before its connection is destroyed. */
export const CLOSE_GRACE_MS = 1_000;

const Phase = {
  open: 0,
  /** Our last frame is written and our side ended; waiting for the connection to close. */
  closing: 1,
  closed: 2,
} as const;
type Phase = (typeof Phase)[keyof typeof Phase];

/**
 * One client connection, over any transport: its schedule of chunks (ChunkSchedule), its
 * requests (RequestReader), backpressure and the slow-consumer rule (FlowControl), and here
 * what ties them together: reading paused or not, the order of work after a drain, closing,
 * and the guard on every way in (see `guarded`), which keeps a fault of ours while serving
 * one peer that peer's problem.
 */
export class Session implements SessionCore, TransportHandler, TurnTaker, MonitoredConnection {
  readonly peer: Peer;
  readonly transport: Transport;
  readonly context: SessionContext;
  readonly generator: SymbolGenerator;
  readonly counter = new DeliveryCounter();
  queuedForTurn = false;
  readonly #openedAt = performance.now();
  readonly #schedule: ChunkSchedule;
  readonly #requests: RequestReader;
  readonly #flow: FlowControl;
  #phase: Phase = Phase.open;
  #readingPaused = false;
  #graceTimer: NodeJS.Timeout | undefined;

  constructor(transport: Transport, peer: Peer, generator: SymbolGenerator, context: SessionContext) {
    this.transport = transport;
    this.peer = peer;
    this.generator = generator;
    this.context = context;
    this.#schedule = new ChunkSchedule(this);
    this.#requests = new RequestReader(this);
    this.#flow = new FlowControl(this);
    transport.attach(this);
  }

  get open(): boolean {
    return this.#phase === Phase.open;
  }

  get blocked(): boolean {
    return this.#flow.blocked;
  }

  get lastSleep(): number {
    return this.#schedule.lastSleep;
  }

  /** The connection now, for the monitor's listing (`/connz`): read on request, never on the hot path. */
  describe(): ConnectionSnapshot {
    const { peer, transport } = this;
    return {
      id: peer.id,
      transport: transport.kind,
      host: peer.host,
      port: peer.port,
      connectedAt: performance.timeOrigin + this.#openedAt,
      chunks: this.#schedule.chunks,
      symbols: this.counter.total,
      symbolsSinceAnswer: this.counter.sinceAnswer,
      queuedBytes: transport.queuedBytes,
      blocked: this.#flow.blocked,
      bytesRead: transport.bytesRead,
      bytesWritten: transport.bytesWritten,
    };
  }

  /** Starts the schedule: the first chunk goes out after the first wait. */
  start(): void {
    guarded(this, Session.#start, this, undefined);
  }

  /**
   * Tells the client the server is going away, then ends the connection. No grace timer of its
   * own: the server's shutdown deadline (`--shutdown-timeout`) decides when to cut it off.
   */
  shutdown(reason: string): void {
    if (this.#phase !== Phase.open) return;
    this.#endWith(encodeServerFrame(MessageType.shutdown, Buffer.from(reason, 'latin1'), this.lastSleep), false);
  }

  /** Ends the connection at once, whatever is still queued. */
  destroy(): void {
    this.transport.destroy();
  }

  // ---- for the parts -------------------------------------------------------------------------

  write(frame: Buffer | readonly Uint8Array[]): void {
    if (!this.#flow.write(frame)) return;
    // Blocked: no more reading, and a frame the peer has begun is not its fault while we wait.
    this.#requests.stopFrameTimer();
    this.updateReading();
    this.context.emit({ type: 'blocked', peer: this.peer, queuedBytes: this.transport.queuedBytes });
  }

  wantTurn(): void {
    this.context.turns.add(this);
  }

  updateReading(): void {
    const pause = this.#flow.blocked || this.#requests.backlogged;
    if (pause === this.#readingPaused || this.#phase !== Phase.open) return;
    this.#readingPaused = pause;
    if (pause) this.transport.pause();
    else this.transport.resume();
  }

  fail(error: ProtocolError): void {
    if (this.#phase !== Phase.open) return;
    this.context.emit({ type: 'protocol-error', peer: this.peer, error });
    this.#endWith(encodeServerFrame(MessageType.error, errorContent(error), this.lastSleep));
  }

  internalError(error: unknown): void {
    dropOnFault(this.context.emit, this.peer, this.transport, error);
  }

  // ---- the ways in ---------------------------------------------------------------------------

  onData(data: Buffer): void {
    guarded(this, Session.#data, this, data);
  }

  onMessage(message: Buffer): void {
    guarded(this, Session.#message, this, message);
  }

  onMalformed(error: ProtocolError): void {
    guarded(this, Session.#malformed, this, error);
  }

  onDrain(): void {
    guarded(this, Session.#drain, this, undefined);
  }

  onEnd(): void {
    guarded(this, Session.#end, this, undefined);
  }

  onError(error: NodeJS.ErrnoException): void {
    guarded(this, Session.#error, this, error);
  }

  onClose(): void {
    guarded(this, Session.#close, this, undefined);
  }

  takeTurn(): void {
    guarded(this, Session.#turn, this, undefined);
  }

  // ---- what each way in does -------------------------------------------------------------------

  static #start(session: Session): void {
    session.#schedule.start();
  }

  static #data(session: Session, data: Buffer): void {
    if (session.#phase !== Phase.open) return;
    session.#requests.onData(data);
    // A share of requests answered in the loop's I/O: chunks that fell due meanwhile go now,
    // not after every other connection's read (a hundred flooders' shares, say).
    session.context.scheduler.fireDue();
  }

  static #message(session: Session, message: Buffer): void {
    if (session.#phase === Phase.open) session.#requests.onMessage(message);
  }

  static #malformed(session: Session, error: ProtocolError): void {
    session.fail(error);
  }

  static #drain(session: Session): void {
    if (session.#phase !== Phase.open) return;
    const blockedMs = session.#flow.unblock();
    if (blockedMs === undefined) return;
    session.context.emit({ type: 'unblocked', peer: session.peer, blockedMs });
    // The requests that waited go first: a client asking what it has received is owed the
    // answer before more chunks are queued in front of it.
    session.#requests.resume();
    if (session.#phase !== Phase.open || session.#flow.blocked) return;
    session.#schedule.resume();
    session.updateReading();
  }

  static #end(session: Session): void {
    if (session.#phase !== Phase.open) return;
    // The peer sent FIN: the original reports this as an error, and users know the line.
    session.context.emit({ type: 'peer-closed', peer: session.peer });
    // Transports leave our side open (allowHalfOpen), so that the requests that came before
    // the FIN, still waiting for a turn, are answered before we end ours.
    session.#requests.finish();
    if (session.#phase === Phase.open) session.#endWith(undefined);
  }

  static #error(session: Session, error: NodeJS.ErrnoException): void {
    if (session.#phase !== Phase.closed) session.context.emit({ type: 'connection-error', peer: session.peer, error });
  }

  static #turn(session: Session): void {
    if (session.#phase !== Phase.open) return;
    if (session.#requests.backlogged) session.#requests.resume();
    if (session.#phase === Phase.open && session.#schedule.pending) session.#schedule.takeTurn();
  }

  static #close(session: Session): void {
    if (session.#phase === Phase.closed) return;
    session.#phase = Phase.closed;
    session.#stopAll();
    // Only now: until the connection is gone, its transport may still be sending symbols the
    // stream lent it.
    session.generator.release();
    clearTimeout(session.#graceTimer);
    session.#graceTimer = undefined;
    const { transport } = session;
    // Whatever reporting does, the session leaves the registry.
    try {
      session.context.emit({
        type: 'closed',
        peer: session.peer,
        summary: {
          durationMs: performance.now() - session.#openedAt,
          chunks: session.#schedule.chunks,
          symbols: session.counter.total,
          bytesRead: transport.bytesRead,
          bytesWritten: transport.bytesWritten,
        },
      });
    } finally {
      session.context.onClosed(session);
    }
  }

  static #graceOver(session: Session): void {
    session.transport.destroy();
  }

  // ---- ending --------------------------------------------------------------------------------

  #endWith(lastFrame: Buffer | undefined, grace = true): void {
    this.#phase = Phase.closing;
    this.#stopAll();
    this.transport.end(lastFrame);
    if (grace) this.#graceTimer = setTimeout(guarded, CLOSE_GRACE_MS, this, Session.#graceOver, this, undefined);
  }

  #stopAll(): void {
    this.#schedule.stop();
    this.#requests.stopFrameTimer();
    this.#flow.stop();
  }
}
