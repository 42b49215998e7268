import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { JumpableRandomGenerator } from 'pure-rand/types/JumpableRandomGenerator';
import type { Range } from './config.js';
import { Keystream, STEP_BYTES } from './keystream.js';
import { pairTable, SymbolKernel } from './symbol-kernel.js';
import { SEGMENT_BYTES, takeLane, type Lane } from './symbol-lanes.js';

/** One wait of a connection's schedule. */
export interface Wait {
  readonly ms: number;
  /** The wait as the `sleep_time` header and the `sleepy for a N seconds` line state it. */
  readonly seconds: number;
}

/**
 * Hands every connection its own random stream. Each stream is the shared generator jumped
 * 2^64 steps ahead of the previous one, and its symbols come from a keystream whose key is the
 * shared generator's first draws and whose nonce the stream's own: so with a seed the n-th
 * connection always gets the same chunks and waits, however the connections' schedules
 * interleave.
 */
export class StreamSource {
  readonly #root: JumpableRandomGenerator;
  readonly #keystream: Keystream;
  /** The alphabet's bytes, shared by every connection's generator. */
  readonly #alphabets = new Map<string, Buffer>();

  constructor(seed: number | undefined) {
    // Without a seed any start will do: only a seed needs to give the same streams twice.
    this.#root = xoroshiro128plus(seed ?? Math.floor(Math.random() * 0x1_0000_0000));
    const key = Buffer.alloc(16);
    for (let at = 0; at < 16; at += 4) key.writeInt32LE(this.#root.next() | 0, at);
    this.#keystream = new Keystream(key);
  }

  next(chars: Range, interval: Range, alphabet: string): SymbolGenerator {
    this.#root.jump();
    let bytes = this.#alphabets.get(alphabet);
    if (bytes === undefined) {
      bytes = Buffer.from(alphabet, 'latin1');
      this.#alphabets.set(alphabet, bytes);
    }
    return new SymbolGenerator(this.#root.clone(), chars, interval, bytes, this.#keystream);
  }
}

/** A connection's chunks and waits: the pure part of its schedule. */
export class SymbolGenerator {
  readonly #rng: JumpableRandomGenerator;
  readonly #chars: Range;
  readonly #symbols: SymbolStream;
  readonly #wholeSeconds: boolean;
  readonly #interval: Range;

  constructor(rng: JumpableRandomGenerator, chars: Range, interval: Range, alphabet: Buffer, keystream: Keystream) {
    this.#rng = rng;
    this.#chars = chars;
    // The connection's keystream: its nonce is the first draws of the connection's jumped stream.
    // A schedule with no wait floods: its symbols are worth a second thread.
    this.#symbols = new SymbolStream(alphabet, keystream, rng.next(), rng.next(), interval.max === 0);
    this.#interval = interval;
    this.#wholeSeconds = Number.isInteger(interval.min) && Number.isInteger(interval.max);
  }

  /** The next chunk: between chars.min and chars.max symbols of the alphabet. */
  nextChunk(): Buffer {
    const chunk = Buffer.allocUnsafe(this.nextLength());
    this.fill(chunk, 0, chunk.length);
    return chunk;
  }

  /** The next chunk's length; its symbols come from `fill`, written straight into a frame. */
  nextLength(): number {
    return uniformInt(this.#rng, this.#chars.min, this.#chars.max);
  }

  /** Writes random symbols into `out` from `start` up to `end`. */
  fill(out: Buffer, start: number, end: number): void {
    this.#symbols.fill(out, start, end);
  }

  /**
   * Whether the next symbols can be lent rather than written: the stream floods, and its
   * segments are made ahead (see `lend`).
   */
  get lends(): boolean {
    return this.#symbols.lends;
  }

  /**
   * The next `length` symbols, the same as `fill` would write, as pieces of memory pushed onto
   * `pieces`: no copy. They are lent until `reclaim`, which the borrower calls once it has done
   * with every piece (a socket, once it has sent them); only while `lends`.
   */
  lend(length: number, pieces: Uint8Array[]): void {
    this.#symbols.lend(length, pieces);
  }

  /** Everything lent so far is done with. */
  reclaim(): void {
    this.#symbols.reclaim();
  }

  /** The connection ended: gives back what its stream holds (see SymbolStream.release). */
  release(): void {
    this.#symbols.release();
  }

  /** The next wait: whole seconds when both bounds are whole (the original's 1..5), else milliseconds. */
  nextWait(): Wait {
    if (this.#wholeSeconds) {
      const seconds = uniformInt(this.#rng, this.#interval.min, this.#interval.max);
      return { ms: seconds * 1000, seconds };
    }
    const ms = uniformInt(this.#rng, Math.round(this.#interval.min * 1000), Math.round(this.#interval.max * 1000));
    return { ms, seconds: ms / 1000 };
  }
}

/**
 * Uniform symbols, fast: the connection's keystream (keystream.ts: pages of xoshiro128++ seeded
 * by AES-128-CTR), read as 16-bit draws, each two symbols or none (symbol-kernel.ts has the
 * mapping). The WebAssembly kernel makes the pages; short fills look the pairs up in a table,
 * long ones map the keystream in the kernel, and the streams that flood get their
 * symbols made in segments, on a second thread as far as it keeps up (symbol-lanes.ts), which
 * they can lend to a socket instead of copying (`lend`).
 * BENCHMARKS.md, flood, has what each part costs.
 *
 * A symbol depends only on its place in the connection's keystream, never on how the fills
 * were cut, which path or thread made it, or what other connections drew in between: one fill
 * of N symbols gives the same bytes as any split of it into several.
 */
class SymbolStream {
  readonly #alphabet: Buffer;
  /** 16-bit draw -> two symbols (low byte first); 0 for a draw to throw away. */
  readonly #pairs: Uint16Array;
  /** Draws kept of every 65536, to size a window for a fill. */
  readonly #kept: number;
  readonly #keystream: Keystream;
  readonly #nonceHigh: number;
  readonly #nonceLow: number;
  /** Whether long fills should take a lane: the stream floods, with no wait between chunks. */
  readonly #floods: boolean;
  /** Keystream bytes drawn so far: always even, since a draw is two bytes. */
  #used = 0;
  /** The second symbol of a draw whose first ended the last fill; 0 for none. */
  #carry = 0;
  /** Keystream bytes our next window holds: doubles for as long as we keep the window. */
  #windowBytes = MIN_WINDOW;
  /** Once the stream floods: its segments, and the one it is using. */
  #lane: Lane | undefined;
  #segment: Uint8Array = EMPTY;
  #segmentAt = 0;
  /**
   * Where `fill` copies a segment out of the shared memory first: V8 copies out of shared
   * memory byte by byte unless both sides have the same alignment (31 us for a segment into a
   * frame at an odd offset, 4 us into memory aligned like it), and the slot is free at once.
   */
  #staging: Uint8Array | undefined;
  /** Part of the staging copy was lent: the next copy needs memory of its own. */
  #stagingLent = false;

  constructor(alphabet: Buffer, keystream: Keystream, nonceHigh: number, nonceLow: number, floods: boolean) {
    this.#alphabet = alphabet;
    this.#pairs = pairTable(alphabet);
    const pairs = alphabet.length * alphabet.length;
    this.#kept = Math.floor(65536 / pairs) * pairs;
    this.#keystream = keystream;
    // Signed 32-bit words fit V8's small integers: no number boxed on the heap per connection.
    this.#nonceHigh = nonceHigh | 0;
    this.#nonceLow = nonceLow | 0;
    this.#floods = floods;
  }

  fill(out: Buffer, start: number, end: number): void {
    let i = start;
    if (i < end && this.#carry !== 0) {
      out[i++] = this.#carry;
      this.#carry = 0;
    }
    if (this.#lane === undefined && this.#floods && end - i >= LANE_FILL) {
      this.#lane = takeLane((kernel ??= new SymbolKernel()), this.#keystream, this.#nonceHigh, this.#nonceLow, this.#alphabet, this.#used);
    }
    if (this.#lane !== undefined) {
      this.#fillFromLane(this.#lane, out, i, end);
      return;
    }
    while (i < end) {
      if (shared.owner !== this || this.#used >= shared.end) this.#refill(end - i);
      i = end - i >= LONG_FILL ? this.#fillLong(out, i, end) : this.#fillShort(out, i, end);
    }
  }

  get lends(): boolean {
    return this.#lane !== undefined;
  }

  lend(length: number, pieces: Uint8Array[]): void {
    const lane = this.#lane;
    if (lane === undefined) throw new Error('only a stream with a lane lends its symbols');
    // No carry here: the fill that took the lane wrote it first, and a lane's fills leave none.
    let left = length;
    while (left > 0) {
      if (this.#segmentAt === this.#segment.length) {
        this.#segment = lane.next();
        this.#segmentAt = 0;
      }
      const take = Math.min(left, this.#segment.length - this.#segmentAt);
      pieces.push(this.#segment.subarray(this.#segmentAt, this.#segmentAt + take));
      if (this.#segment.buffer === this.#staging?.buffer) this.#stagingLent = true;
      this.#segmentAt += take;
      left -= take;
    }
  }

  reclaim(): void {
    this.#lane?.reclaim();
  }

  /** Gives back what the stream holds beyond its own fields (a lane). */
  release(): void {
    this.#lane?.release();
  }

  /** From the stream's segments, in order: once a stream has a lane, every fill comes from it. */
  #fillFromLane(lane: Lane, out: Buffer, start: number, end: number): void {
    let i = start;
    while (i < end) {
      if (this.#segmentAt === this.#segment.length) this.#copyNext(lane);
      const take = Math.min(end - i, this.#segment.length - this.#segmentAt);
      out.set(this.#segment.subarray(this.#segmentAt, this.#segmentAt + take), i);
      this.#segmentAt += take;
      i += take;
    }
  }

  /** The lane's next segment, copied out of the shared memory (see #staging) unless it has memory of its own. */
  #copyNext(lane: Lane): void {
    const symbols = lane.next();
    this.#segmentAt = 0;
    if (!(symbols.buffer instanceof SharedArrayBuffer)) {
      this.#segment = symbols;
      return;
    }
    if (this.#staging === undefined || this.#stagingLent) {
      this.#staging = new Uint8Array(SEGMENT_BYTES);
      this.#stagingLent = false;
    }
    this.#staging.set(symbols);
    this.#segment = this.#staging.subarray(0, symbols.length);
    lane.free();
  }

  /** Draw by draw from the window, up to `end` or the window's end; returns where it stopped. */
  #fillShort(out: Buffer, start: number, end: number): number {
    const pairs = this.#pairs;
    const bytes = shared.bytes;
    const length = bytes.length;
    const last = end - 1;
    let i = start;
    // The offset fits 32 bits even when #used, after 2 GiB, no longer does.
    let at = (this.#used - shared.start) | 0;
    while (i < last && at < length) {
      const pair = pairs[(bytes[at] as number) | ((bytes[at + 1] as number) << 8)] as number;
      at += 2;
      if (pair !== 0) {
        out[i] = pair;
        out[i + 1] = pair >>> 8;
        i += 2;
      }
    }
    // One symbol to go: the next kept draw's first; its second opens the next fill.
    while (i === last && at < length) {
      const pair = pairs[(bytes[at] as number) | ((bytes[at + 1] as number) << 8)] as number;
      at += 2;
      if (pair !== 0) {
        out[i++] = pair;
        this.#carry = pair >>> 8;
      }
    }
    this.#used = shared.start + at;
    return i;
  }

  /** The kernel's pairs, up to `end` or the window's end; returns where it stopped, a symbol short of an odd `end` for #fillShort to finish. */
  #fillLong(out: Buffer, start: number, end: number): number {
    const k = (kernel ??= new SymbolKernel());
    const at = (this.#used - shared.start) | 0;
    const pairs = k.map(shared.bytes, at, this.#alphabet, out, start, (end - start) >> 1);
    this.#used = shared.start + at + k.used * 2;
    return start + pairs * 2;
  }

  /**
   * Makes the shared window hold our keystream from `#used` on, enough for `symbols` symbols
   * if it can. A connection that runs through its window without losing it to another gets one
   * twice the size the next time, so a fast reader soon refills rarely, while the many that
   * draw a chunk now and then cost a small cipher call each.
   */
  #refill(symbols: number): void {
    this.#windowBytes = shared.owner === this ? Math.min(MAX_WINDOW, this.#windowBytes * 2) : MIN_WINDOW;
    const wanted = Math.ceil(((symbols * 65536) / this.#kept) * 1.01) + 32;
    // Whole steps of the keystream, from the one the stream is in; the kernel makes the pages they are in.
    const start = this.#used - (this.#used % STEP_BYTES);
    const end = start + Math.min(MAX_WINDOW, Math.ceil((this.#used - start + Math.max(this.#windowBytes, wanted)) / STEP_BYTES) * STEP_BYTES);
    shared.owner = this;
    shared.bytes = (kernel ??= new SymbolKernel()).window(this.#keystream, this.#nonceHigh, this.#nonceLow, start, end, shared.memory);
    shared.start = start;
    shared.end = end;
  }
}

/** Keystream bytes in a connection's first window: a few chunks of the default 1-5 symbols. */
const MIN_WINDOW = 64;
/** The largest window: a 64 KiB chunk and its thrown-away draws in one call. */
const MAX_WINDOW = 80 * 1024;
/** Fills at least this long go through the kernel. */
const LONG_FILL = 64;
/** A flooding stream takes a lane with its first fill at least this long. */
const LANE_FILL = 1024;
const EMPTY = new Uint8Array(0);
/** This thread's kernel, compiled with the first window. */
let kernel: SymbolKernel | undefined;

/**
 * One keystream window for every connection, lent to whichever last needed more: the server is
 * single-threaded, and a window each would cost every idle client memory. A connection that
 * loses the window loses nothing: any page can be made on its own, so its next window starts
 * where it left off. `bytes` is a view of `memory`, a new one for every window.
 */
const shared: { owner: SymbolStream | undefined; bytes: Uint8Array; start: number; end: number; readonly memory: Uint8Array } = {
  owner: undefined,
  bytes: new Uint8Array(0),
  start: 0,
  end: 0,
  memory: new Uint8Array(MAX_WINDOW),
};
