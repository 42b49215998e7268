import type { PeerAddress, Transport, TransportHandler } from '../../src/transport/transport.js';

/**
 * A transport with no socket under it, for running a session in memory: what the session
 * writes is queued here until the test's peer reads it, the buffer is "full" past a high-water
 * mark of the test's choosing, and what the peer sends is handed to the session while it reads.
 * Every event is delivered on a later tick, as a socket's are, never inside the call that
 * caused it.
 */
export class MemoryTransport implements Transport {
  readonly joinsFrames = true;
  readonly kind = 'memory';
  readonly remote: PeerAddress = { host: '203.0.113.7', port: 40_000, family: 'IPv4' };
  readonly #highWaterMark: number;
  #handler: TransportHandler | undefined;
  #queued: Buffer[] = [];
  #queuedBytes = 0;
  #needsDrain = false;
  #ended = false;
  #destroyed = false;
  #paused = false;
  #corked = 0;
  /** What the peer sent while reading was paused. */
  #inbox: Buffer[] = [];
  #bytesRead = 0;
  #bytesWritten = 0;
  /** Whether the peer takes everything written at once (a fast reader) or nothing until `read()`. */
  #peerReading = true;
  /** Called with everything the session writes, as the peer receives it. */
  onPeerData: (data: Buffer) => void = () => undefined;
  /** Called once the session has ended our side or destroyed the connection. */
  onPeerClosed: () => void = () => undefined;

  constructor(highWaterMark = 16 * 1024) {
    this.#highWaterMark = highWaterMark;
  }

  get needsDrain(): boolean {
    return this.#needsDrain;
  }

  get writable(): boolean {
    return !this.#ended && !this.#destroyed;
  }

  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  get bytesRead(): number {
    return this.#bytesRead;
  }

  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  get paused(): boolean {
    return this.#paused;
  }

  write(data: Buffer): boolean {
    if (!this.writable) return false;
    this.#queued.push(Buffer.from(data));
    this.#queuedBytes += data.length;
    if (this.#corked === 0) this.#flushSoon();
    if (this.#queuedBytes > this.#highWaterMark) this.#needsDrain = true;
    return !this.#needsDrain;
  }

  /**
   * Keeps the pieces themselves, not copies, and reads them only when the peer reads, as a
   * socket reads them only when it sends: a session that changes memory it lent before
   * queuedBytes is back to 0 is caught by what the peer gets.
   */
  writeAll(pieces: readonly Uint8Array[]): boolean {
    if (!this.writable) return false;
    for (const piece of pieces) {
      this.#queued.push(Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength));
      this.#queuedBytes += piece.length;
    }
    if (this.#corked === 0) this.#flushSoon();
    if (this.#queuedBytes > this.#highWaterMark) this.#needsDrain = true;
    return !this.#needsDrain;
  }

  cork(): void {
    this.#corked++;
  }

  uncork(): void {
    if (this.#corked > 0 && --this.#corked === 0) this.#flushSoon();
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    const inbox = this.#inbox;
    this.#inbox = [];
    for (const data of inbox) this.#later(() => this.#deliver(data));
  }

  end(last?: Buffer): void {
    if (last !== undefined) this.write(last);
    this.#ended = true;
    this.#flushSoon();
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#queued = [];
    this.#queuedBytes = 0;
    this.#later(() => {
      this.onPeerClosed();
      this.#handler?.onClose();
    });
  }

  attach(handler: TransportHandler): void {
    this.#handler = handler;
  }

  // ---- the peer's side -------------------------------------------------------------------------

  /** The peer sends bytes; the session gets them once it reads. */
  send(data: Buffer): void {
    if (this.#destroyed) return;
    this.#later(() => this.#deliver(data));
  }

  /** The peer stops reading: what the session writes stays queued, and the buffer fills. */
  stopReading(): void {
    this.#peerReading = false;
  }

  /** The peer reads again: everything queued reaches it. */
  startReading(): void {
    this.#peerReading = true;
    this.#flushSoon();
  }

  #deliver(data: Buffer): void {
    if (this.#destroyed) return;
    if (this.#paused) {
      this.#inbox.push(data);
      return;
    }
    this.#bytesRead += data.length;
    this.#handler?.onData(data);
  }

  #flushSoon(): void {
    this.#later(() => this.#flush());
  }

  #flush(): void {
    if (this.#destroyed || !this.#peerReading || this.#corked > 0) return;
    const queued = this.#queued;
    this.#queued = [];
    this.#queuedBytes = 0;
    for (const data of queued) {
      this.#bytesWritten += data.length;
      // Read now, as a socket reads what it sends (lent pieces are the session's own memory).
      this.onPeerData(Buffer.from(data));
    }
    if (this.#needsDrain) {
      this.#needsDrain = false;
      this.#handler?.onDrain();
    }
    // Our side ended and everything read: the peer closes too.
    if (this.#ended) this.destroy();
  }

  #later(run: () => void): void {
    setImmediate(run);
  }
}
