import { performance } from 'node:perf_hooks';
import { ErrorCode, ProtocolError } from '../protocol/errors.js';
import type { Transport } from '../transport/transport.js';
import { guarded, type SessionCore } from './session-core.js';

/**
 * Backpressure for one connection, and the slow-consumer rule. Once a write finds the peer's
 * buffer full, the connection is blocked: its schedule holds its next chunk and reading stops
 * (a peer that does not read our answers must not make us queue more of them), so the bytes
 * queued per client stay bounded by the high-water mark plus one write. A peer that stays
 * blocked for `--slow-client-timeout` is cut off.
 */
export class FlowControl {
  readonly #core: SessionCore;
  #blockedAt: number | undefined;
  #slowTimer: NodeJS.Timeout | undefined;

  constructor(core: SessionCore) {
    this.#core = core;
  }

  get blocked(): boolean {
    return this.#blockedAt !== undefined;
  }

  /**
   * Writes `frame`, or pieces to go back to back (see Transport.writeAll); returns true if this
   * write found the buffer full and blocked the connection.
   */
  write(frame: Buffer | readonly Uint8Array[]): boolean {
    const { transport } = this.#core;
    if (Buffer.isBuffer(frame) ? transport.write(frame) : writeAll(transport, frame)) return false;
    // write() also says false on a connection that is ended or destroyed (a peer that left):
    // that is not a full buffer, and the close that follows does the cleaning up.
    if (this.#blockedAt !== undefined || !transport.writable) return false;
    this.#blockedAt = performance.now();
    this.#slowTimer = setTimeout(guarded, this.#core.context.config.slowClientTimeoutMs, this.#core, FlowControl.timedOut, this, undefined);
    return true;
  }

  /** The buffer drained: returns how long the connection was blocked, or undefined if it was not. */
  unblock(): number | undefined {
    if (this.#blockedAt === undefined) return undefined;
    const blockedMs = performance.now() - this.#blockedAt;
    this.#blockedAt = undefined;
    this.stop();
    return blockedMs;
  }

  stop(): void {
    clearTimeout(this.#slowTimer);
    this.#slowTimer = undefined;
  }

  static timedOut(this: void, flow: FlowControl): void {
    flow.#slowTimer = undefined;
    const seconds = flow.#core.context.config.slowClientTimeoutMs / 1000;
    flow.#core.fail(new ProtocolError(ErrorCode.slowConsumer, `client read nothing for ${seconds} s`));
  }
}

function writeAll(transport: Transport, pieces: readonly Uint8Array[]): boolean {
  if (transport.writeAll === undefined) throw new Error(`a ${transport.kind} transport cannot write pieces`);
  return transport.writeAll(pieces);
}
