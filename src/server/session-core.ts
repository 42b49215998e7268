import type { Transport } from '../transport/transport.js';
import type { ProtocolError } from '../protocol/errors.js';
import type { ServerConfig } from './config.js';
import type { DeliveryCounter } from './delivery-counter.js';
import type { Peer, ServerEventSink } from './events.js';
import type { SymbolGenerator } from './generator.js';
import type { Scheduler } from './scheduler.js';
import type { ServerStats } from './stats.js';
import type { TurnQueue } from './turns.js';

/** What every connection shares: the server's configuration, its one timer, its counters. */
export interface SessionContext {
  readonly config: ServerConfig;
  /** The server's one timer for every connection's chunks. */
  readonly scheduler: Scheduler;
  /** Fair shares of the loop for connections with more work than one share. */
  readonly turns: TurnQueue;
  readonly stats: ServerStats;
  /** Whether to emit 'chunk' and 'scheduled' events (see StartOptions). */
  readonly chunkEvents: boolean;
  readonly emit: ServerEventSink;
  /** Called once for each session, when its connection has closed. */
  readonly onClosed: (session: SessionCore) => void;
}

/**
 * The session as its parts (the chunk schedule, the request reader, the flow control) see it:
 * the connection's shared state, and the ways back to the session that ties them together.
 */
export interface SessionCore {
  readonly peer: Peer;
  readonly transport: Transport;
  readonly context: SessionContext;
  readonly generator: SymbolGenerator;
  readonly counter: DeliveryCounter;
  /** Whether the session still serves the peer (not closing, not closed). */
  readonly open: boolean;
  /** Whether the peer's buffer is full: nothing more is written and nothing read until it drains. */
  readonly blocked: boolean;
  /** Writes a frame, or pieces to go back to back, minding the buffer (see FlowControl). */
  write(frame: Buffer | readonly Uint8Array[]): void;
  /** The wait before the last chunk: every frame's `sleep_time`, as the original's. */
  readonly lastSleep: number;
  /** Asks for a share of the next turn of the loop. */
  wantTurn(): void;
  /** Reading from the peer is wanted, or not, by one of the parts; the session decides. */
  updateReading(): void;
  /** A protocol violation or a limit: report it, tell the peer why, close this connection only. */
  fail(error: ProtocolError): void;
  /** A fault of ours while serving this peer: report it and drop this connection only. */
  internalError(error: unknown): void;
}

/**
 * Every way into a session (a socket event, a timer, the scheduler, a turn) runs through here:
 * a fault in the handler (a bug, not the peer's doing) ends this connection only. It is reported
 * and the connection dropped, and no exception reaches the process, where it would take every
 * other client down with it. Timers call it directly (`setTimeout(guarded, ms, core, handler,
 * a, b)`), so arming one allocates no closure.
 */
export function guarded<A, B>(core: SessionCore, handler: (a: A, b: B) => void, a: A, b: B): void {
  try {
    handler(a, b);
  } catch (error) {
    core.internalError(error);
  }
}

/**
 * A fault of ours while serving `peer`: reported, and the connection dropped. Whatever the report
 * does (the sink may be what failed), the connection goes, and nothing reaches the process.
 */
export function dropOnFault(emit: ServerEventSink, peer: Peer, transport: Transport, error: unknown): void {
  try {
    emit({ type: 'internal-error', peer, error: error instanceof Error ? error : new Error(String(error)) });
  } catch {
    // The report itself failed: dropping the connection is all that is left to do.
  } finally {
    transport.destroy();
  }
}
