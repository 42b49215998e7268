import { Worker } from 'node:worker_threads';
import type { Keystream } from './keystream.js';
import { KERNEL_SYMBOLS, type SymbolKernel } from './symbol-kernel.js';

/**
 * Symbols made on a second thread for the connections that flood (no wait between chunks), so
 * that the machine's other core makes symbols while this one writes them. A flooding stream
 * takes a lane: a ring of slots in memory shared with the helper thread (symbol-thread.ts), each
 * holding one segment of the stream, the symbols of SEGMENT_BYTES of its keystream. The stream
 * uses its segments in order; the helper makes the ones queued, oldest first; and a stream
 * whose next segment the helper has not begun makes it itself, so that neither thread waits for
 * the other while both have work. A segment's symbols depend only on its place in the
 * keystream, so the same symbols come out whichever thread made them.
 */

/** Keystream bytes a segment maps: two 64 KiB chunks and their thrown-away draws, about. */
export const SEGMENT_BYTES = 128 * 1024;
/** Flooding streams served at once; the others make their symbols on this thread, as before. */
const LANES = 4;
/**
 * Segments a lane holds. A socket keeps the segments of its last write until it has sent them
 * (two or three of a 256 KiB burst), so the helper can be the rest ahead of the stream.
 */
const SLOTS = 8;
/**
 * The longest this thread waits for a segment the helper is making: a helper that takes longer
 * has lost its core to others, and the stream makes that segment itself rather than hold up
 * every other client (the helper's copy, when it comes, is dropped).
 */
let helperWaitMs = 2;

/** A slot's states. */
export const SlotState = { free: 0, queued: 1, working: 2, done: 3, mine: 4 } as const;

// The shared memory as 32-bit words: a header, the lanes, the slots, then the slots' symbols.
const SEQUENCE = 0;
const TICKETS = 1;
/** Segments the helper has made, for the tests and the curious. */
const HELPER_MADE = 2;
/** 1 while the helper sleeps, so that queueing wakes it only then: a wake-up is a system call. */
const HELPER_SLEEPS = 3;
const LANE_BASE = 4;
/** A lane: its nonce, its alphabet's size, its generation, the source's key (4 words), the alphabet (24 words). */
const LANE_WORDS = 32;
const LANE_NONCE_HIGH = 0;
const LANE_NONCE_LOW = 1;
const LANE_SIZE = 2;
/** Counts the streams the lane has served, so that the helper knows when its copy of the stream is stale. */
const LANE_GENERATION = 3;
const LANE_KEY = 4;
const LANE_ALPHABET = 8;
const SLOT_BASE = LANE_BASE + LANES * LANE_WORDS;
/** A slot: its state, its ticket (queue order), where its segment starts (two words) and its symbols. */
const SLOT_WORDS = 8;
const SLOT_STATE = 0;
const SLOT_TICKET = 1;
const SLOT_START_HIGH = 2;
const SLOT_START_LOW = 3;
const SLOT_COUNT = 4;
const DATA_BASE = (SLOT_BASE + LANES * SLOTS * SLOT_WORDS) * 4;
const SHARED_BYTES = DATA_BASE + LANES * SLOTS * SEGMENT_BYTES;

/** The symbols of the segment of a keystream starting at byte `start` (even), into `out`; returns how many. */
export function makeSegment(kernel: SymbolKernel, keystream: Keystream, nonceHigh: number, nonceLow: number, start: number, alphabet: Buffer, out: Uint8Array): number {
  return 2 * kernel.map(kernel.window(keystream, nonceHigh, nonceLow, start, start + SEGMENT_BYTES), 0, alphabet, out, 0, SEGMENT_BYTES / 2);
}

/** The shared memory's layout, the same on both threads. */
export class LaneTable {
  readonly words: Int32Array;
  readonly #bytes: Uint8Array;

  constructor(readonly shared: SharedArrayBuffer) {
    this.words = new Int32Array(shared, 0, DATA_BASE / 4);
    this.#bytes = new Uint8Array(shared);
  }

  static create(): LaneTable {
    return new LaneTable(new SharedArrayBuffer(SHARED_BYTES));
  }

  state(slot: number): number {
    return Atomics.load(this.words, stateIndex(slot));
  }

  /** Moves a slot from `from` to `to` if it is still in `from`; whether it was. */
  move(slot: number, from: number, to: number): boolean {
    return Atomics.compareExchange(this.words, stateIndex(slot), from, to) === from;
  }

  /** Marks a slot's segment made, and wakes the other thread if it waits for it. */
  finish(slot: number, count: number, byHelper: boolean): void {
    this.setCount(slot, count);
    if (byHelper) Atomics.add(this.words, HELPER_MADE, 1);
    Atomics.store(this.words, stateIndex(slot), SlotState.done);
    Atomics.notify(this.words, stateIndex(slot));
  }

  /** Waits while a slot is in `state`; false if it still is after `ms`. */
  waitWhile(slot: number, state: number, ms: number): boolean {
    return Atomics.wait(this.words, stateIndex(slot), state, ms) !== 'timed-out' || this.state(slot) !== state;
  }

  /** The symbols in a slot's segment. */
  setCount(slot: number, count: number): void {
    this.words[SLOT_BASE + slot * SLOT_WORDS + SLOT_COUNT] = count;
  }

  start(slot: number): number {
    const at = SLOT_BASE + slot * SLOT_WORDS;
    return (this.words[at + SLOT_START_HIGH] as number) * 0x1_0000_0000 + ((this.words[at + SLOT_START_LOW] as number) >>> 0);
  }

  symbols(slot: number): Uint8Array {
    const count = this.words[SLOT_BASE + slot * SLOT_WORDS + SLOT_COUNT] as number;
    return this.#bytes.subarray(DATA_BASE + slot * SEGMENT_BYTES, DATA_BASE + slot * SEGMENT_BYTES + count);
  }

  /** The whole of a slot's room, for making its segment. */
  room(slot: number): Uint8Array {
    return this.#bytes.subarray(DATA_BASE + slot * SEGMENT_BYTES, DATA_BASE + (slot + 1) * SEGMENT_BYTES);
  }

  /** Queues a slot's segment for the helper, behind every segment queued before it. */
  queue(slot: number, start: number): void {
    const at = SLOT_BASE + slot * SLOT_WORDS;
    this.words[at + SLOT_START_HIGH] = Math.floor(start / 0x1_0000_0000);
    this.words[at + SLOT_START_LOW] = start >>> 0;
    this.words[at + SLOT_TICKET] = Atomics.add(this.words, TICKETS, 1);
    Atomics.store(this.words, stateIndex(slot), SlotState.queued);
    Atomics.add(this.words, SEQUENCE, 1);
    if (Atomics.load(this.words, HELPER_SLEEPS) === 1) Atomics.notify(this.words, SEQUENCE, 1);
  }

  /**
   * The slot the helper should make next, or -1 for none: in the lane that queued the oldest
   * segment still queued (lanes take turns), the segment furthest ahead. The stream makes the
   * ones it needs next itself when the helper is behind, so the two work from the two ends of
   * the queue and meet in the middle, rather than the stream waiting for the one the helper is
   * at.
   */
  helperNext(): number {
    let oldest = -1;
    let ticket = 0;
    for (let slot = 0; slot < LANES * SLOTS; slot++) {
      if (this.state(slot) !== SlotState.queued) continue;
      const mine = this.words[SLOT_BASE + slot * SLOT_WORDS + SLOT_TICKET] as number;
      if (oldest === -1 || mine - ticket < 0) {
        oldest = slot;
        ticket = mine;
      }
    }
    if (oldest === -1) return -1;
    let furthest = oldest;
    for (let slot = laneOf(oldest) * SLOTS; slot < (laneOf(oldest) + 1) * SLOTS; slot++) {
      if (this.state(slot) === SlotState.queued && this.start(slot) > this.start(furthest)) furthest = slot;
    }
    return furthest;
  }

  /**
   * The helper's wait for anything queued after it read `seen` from sequence(): it sleeps at
   * once. Looking for work a while first (0.2 ms) cost the flood 7 % on two cores: the time it
   * spun was taken from the threads the bytes wait on.
   */
  waitForWork(seen: number): void {
    while (Atomics.load(this.words, SEQUENCE) === seen) {
      // Queueing after this store wakes us; queueing before it changed the sequence, so the wait returns at once.
      Atomics.store(this.words, HELPER_SLEEPS, 1);
      Atomics.wait(this.words, SEQUENCE, seen);
      Atomics.store(this.words, HELPER_SLEEPS, 0);
    }
  }

  sequence(): number {
    return Atomics.load(this.words, SEQUENCE);
  }

  helperMade(): number {
    return Atomics.load(this.words, HELPER_MADE);
  }

  /** Slots queued or being made, in every lane. */
  pending(): number {
    let count = 0;
    for (let slot = 0; slot < LANES * SLOTS; slot++) {
      const state = this.state(slot);
      if (state === SlotState.queued || state === SlotState.working) count++;
    }
    return count;
  }

  setLane(lane: number, keystream: Keystream, nonceHigh: number, nonceLow: number, alphabet: Buffer): void {
    const at = LANE_BASE + lane * LANE_WORDS;
    this.words[at + LANE_NONCE_HIGH] = nonceHigh;
    this.words[at + LANE_NONCE_LOW] = nonceLow;
    this.words[at + LANE_SIZE] = alphabet.length;
    for (let word = 0; word < 4; word++) this.words[at + LANE_KEY + word] = keystream.key.readInt32LE(word * 4);
    const symbols = new Uint8Array(this.words.buffer, (at + LANE_ALPHABET) * 4, KERNEL_SYMBOLS);
    symbols.fill(0).set(alphabet);
    // Before the lane's first queue(), whose store the helper's compareExchange reads after.
    Atomics.add(this.words, at + LANE_GENERATION, 1);
  }

  /** Which stream the lane serves now (see setLane). */
  generation(lane: number): number {
    return Atomics.load(this.words, LANE_BASE + lane * LANE_WORDS + LANE_GENERATION);
  }

  /** A lane's stream as the helper needs it: key, nonce and alphabet. */
  lane(lane: number): { key: Buffer; nonceHigh: number; nonceLow: number; alphabet: Buffer } {
    const at = LANE_BASE + lane * LANE_WORDS;
    const key = Buffer.alloc(16);
    for (let word = 0; word < 4; word++) key.writeInt32LE(this.words[at + LANE_KEY + word] as number, word * 4);
    const size = this.words[at + LANE_SIZE] as number;
    const alphabet = Buffer.from(new Uint8Array(this.words.buffer, (at + LANE_ALPHABET) * 4, size));
    return { key, nonceHigh: this.words[at + LANE_NONCE_HIGH] as number, nonceLow: this.words[at + LANE_NONCE_LOW] as number, alphabet };
  }
}

function stateIndex(slot: number): number {
  return SLOT_BASE + slot * SLOT_WORDS + SLOT_STATE;
}

/** The lane a slot belongs to. */
export function laneOf(slot: number): number {
  return Math.floor(slot / SLOTS);
}

/**
 * This thread's side: the helper, started with the first flooding stream, and the lanes it
 * hands out. Without a helper (it could not start, or it stopped) there are no lanes, and every
 * stream makes its own symbols.
 */
class Lanes {
  #table: LaneTable | undefined;
  #helper: Worker | undefined;
  #broken = false;
  /** Segments made on this thread, in lanes or after the helper failed. */
  madeHere = 0;
  /** Of those, the ones the helper was already making but too slowly. */
  late = 0;
  readonly #taken = new Array<boolean>(LANES).fill(false);

  /** A lane for a stream whose next symbols start at keystream byte `start`, or undefined if none is free. */
  take(kernel: SymbolKernel, keystream: Keystream, nonceHigh: number, nonceLow: number, alphabet: Buffer, start: number): Lane | undefined {
    if (this.#broken) return undefined;
    const table = (this.#table ??= this.#start());
    if (table === undefined) return undefined;
    for (let lane = 0; lane < LANES; lane++) {
      if (this.#taken[lane] || !this.#idle(table, lane)) continue;
      this.#taken[lane] = true;
      table.setLane(lane, keystream, nonceHigh, nonceLow, alphabet);
      return new Lane(this, table, lane, kernel, keystream, nonceHigh, nonceLow, alphabet, start);
    }
    return undefined;
  }

  /** Gives a lane back; its queued segments are dropped. */
  give(table: LaneTable, lane: number): void {
    for (let slot = lane * SLOTS; slot < (lane + 1) * SLOTS; slot++) table.move(slot, SlotState.queued, SlotState.free);
    this.#taken[lane] = false;
  }

  /** The helper stopped: no lanes from now on. */
  break(): void {
    this.#broken = true;
  }

  /** Stops the helper; the streams with lanes go on making their own segments. */
  async stop(): Promise<void> {
    this.#broken = true;
    await this.#helper?.terminate();
  }

  counts(): LaneCounts {
    return { helper: this.#table?.helperMade() ?? 0, here: this.madeHere, late: this.late, pending: this.#table?.pending() ?? 0 };
  }

  get broken(): boolean {
    return this.#broken;
  }

  /** No segment of the lane still being made by the helper (a lane given back may have one). */
  #idle(table: LaneTable, lane: number): boolean {
    for (let slot = lane * SLOTS; slot < (lane + 1) * SLOTS; slot++) if (table.state(slot) === SlotState.working) return false;
    return true;
  }

  #start(): LaneTable | undefined {
    try {
      const table = LaneTable.create();
      const helper = new Worker(new URL('./symbol-thread.js', import.meta.url), { workerData: table.shared });
      // The helper never keeps the process alive; it waits on shared memory, not on the loop.
      helper.unref();
      helper.on('error', (error) => {
        this.break();
        // A helper that cannot run costs speed only: say so, since nothing else would.
        process.emitWarning(`the symbol helper thread failed (${error.message}); flooding clients' symbols are made on the main thread`);
      });
      helper.on('exit', () => this.break());
      this.#helper = helper;
      return table;
    } catch {
      this.#broken = true;
      return undefined;
    }
  }
}

const lanes = new Lanes();

/** Takes a lane for a flooding stream (see Lanes.take). */
export function takeLane(kernel: SymbolKernel, keystream: Keystream, nonceHigh: number, nonceLow: number, alphabet: Buffer, start: number): Lane | undefined {
  return lanes.take(kernel, keystream, nonceHigh, nonceLow, alphabet, start);
}

/** Segments made so far: by the helper, on this thread, and of those on this thread the ones the helper was late with; and those still to make. */
export interface LaneCounts {
  readonly helper: number;
  readonly here: number;
  readonly late: number;
  /** Segments queued or being made now. */
  readonly pending: number;
}

export function laneCounts(): LaneCounts {
  return lanes.counts();
}

/** Sets how long a stream waits for the helper's segment, and returns what it was (the tests use 0: every segment the helper is still making is late). */
export function setHelperWait(ms: number): number {
  const was = helperWaitMs;
  helperWaitMs = ms;
  return was;
}

/** Stops the helper for good (the tests of what happens without it). */
export function stopLaneHelper(): Promise<void> {
  return lanes.stop();
}

/**
 * One flooding stream's segments, in order, each from the helper or made here. A segment is
 * lent: `next` hands out the slot's own memory, and the slot goes back to the helper only at
 * `reclaim`, once whoever the symbols were lent to (a socket's write) has done with them.
 */
export class Lane {
  readonly #lanes: Lanes;
  readonly #table: LaneTable;
  readonly #lane: number;
  readonly #kernel: SymbolKernel;
  readonly #keystream: Keystream;
  readonly #nonceHigh: number;
  readonly #nonceLow: number;
  readonly #alphabet: Buffer;
  /** Where the segment to use next starts in the keystream. */
  #position: number;
  /** The slot of the segment to use next, of SLOTS in a ring. */
  #next = 0;
  /** Slots whose memory is lent out, oldest first; the last may be the segment in use. */
  readonly #lent: number[] = [];
  /** The slot of the segment in use, or -1 when it lives in memory of its own. */
  #current = -1;
  #released = false;

  constructor(owner: Lanes, table: LaneTable, lane: number, kernel: SymbolKernel, keystream: Keystream, nonceHigh: number, nonceLow: number, alphabet: Buffer, start: number) {
    this.#lanes = owner;
    this.#table = table;
    this.#lane = lane;
    this.#kernel = kernel;
    this.#keystream = keystream;
    this.#nonceHigh = nonceHigh;
    this.#nonceLow = nonceLow;
    this.#alphabet = alphabet;
    this.#position = start;
    for (let index = 0; index < SLOTS; index++) table.queue(this.#slot(index), start + index * SEGMENT_BYTES);
  }

  /**
   * The next segment's symbols, lent until `reclaim` (or `free`): they are the slot's memory,
   * or memory of their own where the slot cannot serve.
   */
  next(): Uint8Array {
    const position = this.#position;
    this.#position += SEGMENT_BYTES;
    this.#current = -1;
    if (this.#lanes.broken) return this.#makeApart(position);
    const table = this.#table;
    const slot = this.#slot(this.#next);
    this.#next = (this.#next + 1) % SLOTS;
    if (table.start(slot) !== position) {
      // The slot is still lent, or holds (or the helper still makes) a segment this stream
      // made itself when the helper was late: it has not got this one.
      // (A slot the helper may be taking, one queued, is never written here.)
      const state = table.state(slot);
      if (state === SlotState.done || state === SlotState.free) this.#requeue(slot);
      return this.#makeApart(position);
    }
    if (table.move(slot, SlotState.queued, SlotState.mine)) {
      // The helper has not begun it (it is behind, or asleep): made here, as the stream needs it now.
      table.setCount(slot, this.#makeInto(position, table.room(slot)));
    } else if (table.state(slot) === SlotState.working && !this.#awaitHelper(slot)) {
      // The helper lost its core: rather than hold up every other client, make it here.
      this.#lanes.late++;
      return this.#makeApart(position);
    } else if (!table.move(slot, SlotState.done, SlotState.mine)) {
      // Not made (no state but done should be left here): nothing of the slot is lent.
      return this.#makeApart(position);
    }
    this.#lent.push(slot);
    this.#current = slot;
    return table.symbols(slot);
  }

  /** The segments lent so far, but the one in use, are done with: their slots take the segments after the ones queued. */
  reclaim(): void {
    const keep = this.#current;
    for (const slot of this.#lent) if (slot !== keep) this.#requeue(slot);
    this.#lent.length = 0;
    if (keep !== -1) this.#lent.push(keep);
  }

  /** The segment in use is done with (it was copied): its slot goes back at once. */
  free(): void {
    const slot = this.#current;
    if (slot === -1) return;
    this.#lent.splice(this.#lent.indexOf(slot), 1);
    this.#current = -1;
    this.#requeue(slot);
  }

  /** Gives the lane back (the stream ended, and nothing it lent is read any more). */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#lanes.give(this.#table, this.#lane);
  }

  #slot(index: number): number {
    return this.#lane * SLOTS + index;
  }

  /** Queues a slot for the segment the stream will next want of it, by its place in the ring. */
  #requeue(slot: number): void {
    const ahead = (slot - this.#lane * SLOTS - this.#next + SLOTS) % SLOTS;
    this.#table.queue(slot, this.#position + ahead * SEGMENT_BYTES);
  }

  /** Waits for the helper's segment, making the one after it meanwhile if the helper has not begun that too; false if it took too long. */
  #awaitHelper(slot: number): boolean {
    const table = this.#table;
    const after = this.#slot(this.#next);
    if (table.move(after, SlotState.queued, SlotState.mine)) table.finish(after, this.#makeInto(table.start(after), table.room(after)), false);
    return table.waitWhile(slot, SlotState.working, helperWaitMs);
  }

  /** Makes the segment at `position` on this thread, into `out`; returns its symbols. */
  #makeInto(position: number, out: Uint8Array): number {
    this.#lanes.madeHere++;
    return makeSegment(this.#kernel, this.#keystream, this.#nonceHigh, this.#nonceLow, position, this.#alphabet, out);
  }

  /** The segment at `position`, made here into memory of its own (it is lent like a slot's, and nobody else writes it). */
  #makeApart(position: number): Uint8Array {
    const out = Buffer.allocUnsafe(SEGMENT_BYTES);
    return out.subarray(0, this.#makeInto(position, out));
  }
}
