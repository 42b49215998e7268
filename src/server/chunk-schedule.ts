import { performance } from 'node:perf_hooks';
import { MessageType } from '../protocol/frame.js';
import { serverFrameHead } from '../protocol/messages.js';
import type { Wait } from './generator.js';
import type { Slot } from './scheduler.js';
import { guarded, type SessionCore } from './session-core.js';

/**
 * With `--interval 0-0`, frames joined into one write: one system call for many small frames,
 * or for several large ones. A write has a fixed cost besides its bytes: on loopback, a
 * 256 KiB write moves 64 KiB frames about 1.7 times as fast as one write a frame
 * (BENCHMARKS.md, flood).
 */
const BURST_FRAMES = 256;
const BURST_BYTES = 256 * 1024;
/** More than any chunk frame's prefix and header take (about 180 bytes). */
const MAX_HEAD_BYTES = 256;

/**
 * A connection's chunks: each wait, then a chunk, forever. The schedule is a slot in the
 * server's one timer heap, so one client's wait never delays another and a connection costs no
 * timer object per chunk.
 *
 * A chunk that comes due while the peer's buffer is full is owed, and sent once it drains. With
 * no wait between chunks (`--interval 0-0`) frames go out in bursts, one write each, and each
 * burst is one share of a turn of the loop (TurnQueue), so a flooded client gets its chunks as
 * fast as it reads them without holding up anyone else.
 */
export class ChunkSchedule implements Slot {
  due = 0;
  index = -1;
  readonly fire = ChunkSchedule.fire;
  readonly #core: SessionCore;
  #chunks = 0;
  #lastSleep = 0;
  #nextWait = 0;
  #dueAt = 0;
  /** A chunk came due while the buffer was full: send it on drain. */
  #owed = false;
  /** The next chunk is due now (no wait): it goes out in the next share of a turn. */
  #ready = false;

  constructor(core: SessionCore) {
    this.#core = core;
  }

  get chunks(): number {
    return this.#chunks;
  }

  /** The wait before the last chunk; statistics answers carry it, as the original's do. */
  get lastSleep(): number {
    return this.#lastSleep;
  }

  /** Whether a chunk is due now and waits for a turn (or for the buffer to drain). */
  get pending(): boolean {
    return this.#ready || this.#owed;
  }

  /** Starts the schedule: the first chunk goes out after the first wait. */
  start(): void {
    this.#wait(this.#core.generator.nextWait(), performance.now());
  }

  /** One share of a turn: a burst of the chunks that are due. */
  takeTurn(): void {
    if (!this.#ready || !this.#core.open) return;
    if (this.#core.blocked) {
      this.#owed = true;
      this.#ready = false;
      return;
    }
    this.#sendBurst();
  }

  /** The buffer has room again: a chunk owed goes out in the next turn. */
  resume(): void {
    this.#reclaimSent();
    if (!this.#owed) return;
    this.#owed = false;
    this.#ready = true;
    this.#core.wantTurn();
  }

  stop(): void {
    this.#core.context.scheduler.cancel(this);
    this.#owed = this.#ready = false;
  }

  #wait(wait: Wait, now: number): void {
    const { context } = this.#core;
    this.#nextWait = wait.seconds;
    this.#dueAt = now + wait.ms;
    if (context.chunkEvents) context.emit({ type: 'scheduled', peer: this.#core.peer, wait });
    if (wait.ms > 0) {
      context.scheduler.schedule(this, wait.ms);
      return;
    }
    this.#ready = true;
    this.#core.wantTurn();
  }

  #onDue(): void {
    if (!this.#core.open) return;
    if (this.#core.blocked) {
      this.#owed = true;
      return;
    }
    this.#sendBurst();
  }

  /**
   * Sends the chunk that is due. With no wait after it, the next ones join it in one write, up
   * to a burst: each frame written in place in one buffer, or, for a stream that lends its
   * symbols (a flood), as its head and the stream's own memory, with no copy at all.
   */
  #sendBurst(): void {
    const core = this.#core;
    const { generator, counter, transport } = core;
    const { stats, chunkEvents, emit } = core.context;
    // One clock reading per burst: within a burst every chunk is due now.
    const now = performance.now();
    // A transport that sends each write as one message gets each frame written on its own,
    // from its own part of the burst's buffer.
    const joins = transport.joinsFrames;
    // Lent symbols stay the stream's until the transport has sent them (queuedBytes 0); the
    // chunk events, which carry the symbols away, need copies.
    const pieces = joins && !chunkEvents && generator.lends && transport.writeAll !== undefined ? this.#lentPieces() : undefined;
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
      if (pieces !== undefined) {
        pieces.push(head);
        generator.lend(length, pieces);
      } else {
        // A chunk followed by a wait (the usual case) gets a buffer of its own size; a burst,
        // one buffer for all its frames.
        burst ??= Buffer.allocUnsafe(wait.ms > 0 ? size : this.#burstCapacity);
        burst.set(head, at);
        generator.fill(burst, at + head.length, at + size);
        if (chunkEvents) emit({ type: 'chunk', peer: core.peer, content: burst.subarray(at + head.length, at + size), sleepTime: this.#lastSleep, frameBytes: size, lateMs });
        if (!joins) core.write(burst.subarray(at, at + size));
      }
      at += size;
      frames++;
      counter.add(length);
      this.#chunks++;
      stats.chunkSent(length, lateMs);
      this.#nextWait = wait.seconds;
      this.#dueAt = now + wait.ms;
    } while (wait.ms === 0 && frames < BURST_FRAMES && at < BURST_BYTES && (joins || (core.open && !core.blocked)));
    this.#ready = false;
    if (pieces !== undefined) {
      core.write(pieces);
      this.#reclaimSent();
    } else if (joins && burst !== undefined) {
      core.write(at === burst.length ? burst : burst.subarray(0, at));
    }
    if (!core.open) return;
    this.#wait(wait, now);
  }

  /** A list for a burst's lent pieces, once what the last burst lent is back. */
  #lentPieces(): Uint8Array[] {
    this.#reclaimSent();
    return [];
  }

  /** Once the transport has sent everything, the symbols lent to it are the stream's again. */
  #reclaimSent(): void {
    if (this.#core.transport.queuedBytes === 0) this.#core.generator.reclaim();
  }

  /** Room for a whole burst: BURST_FRAMES of the largest frame, or BURST_BYTES and then one more. */
  get #burstCapacity(): number {
    const largest = this.#core.context.config.chars.max + MAX_HEAD_BYTES;
    return Math.min(BURST_BYTES, BURST_FRAMES * largest) + largest;
  }

  /** The scheduler's way in: shared by every slot, guarded like every other entry point. */
  static fire(this: void, slot: Slot): void {
    const schedule = slot as ChunkSchedule;
    guarded(schedule.#core, ChunkSchedule.#due, schedule, undefined);
  }

  static #due(schedule: ChunkSchedule): void {
    schedule.#onDue();
  }
}
