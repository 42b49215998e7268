import { createCipheriv, type Cipher } from 'node:crypto';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { JumpableRandomGenerator } from 'pure-rand/types/JumpableRandomGenerator';
import type { Range } from './config.js';

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
    this.#symbols = new SymbolStream(alphabet, keystream, rng.next(), rng.next());
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
 * AES-128-CTR under one key per source, a keystream per connection told apart by its random
 * 64-bit nonce: block b of a connection's keystream is AES(key, nonce || b), CTR's 128-bit
 * big-endian counter. Long windows come from a CTR cipher made for the window; short ones,
 * which a connection drawing a chunk now and then needs at nearly every chunk, from one ECB
 * cipher kept for the source and fed the counter blocks: making a cipher costs about 2 us, the
 * ECB call well under one.
 */
class Keystream {
  readonly #key: Buffer;
  #ecb: Cipher | undefined;

  constructor(key: Buffer) {
    this.#key = key;
  }

  /** `length` bytes (a multiple of 16) of the keystream of `nonce`, from its block `block` on. */
  window(nonceHigh: number, nonceLow: number, block: number, length: number): Buffer {
    if (length <= SHORT_WINDOW) {
      this.#ecb ??= createCipheriv('aes-128-ecb', this.#key, null).setAutoPadding(false);
      for (let at = 0; at < length; at += 16, block++) counterBlock(COUNTERS, at, nonceHigh, nonceLow, block);
      return this.#ecb.update(COUNTERS.subarray(0, length));
    }
    counterBlock(IV, 0, nonceHigh, nonceLow, block);
    zeros ??= Buffer.alloc(MAX_WINDOW);
    return createCipheriv('aes-128-ctr', this.#key, IV).update(zeros.subarray(0, length));
  }
}

function counterBlock(out: Buffer, at: number, nonceHigh: number, nonceLow: number, block: number): void {
  out.writeInt32BE(nonceHigh, at);
  out.writeInt32BE(nonceLow, at + 4);
  out.writeUInt32BE(Math.floor(block / 0x1_0000_0000), at + 8);
  out.writeUInt32BE(block >>> 0, at + 12);
}

/**
 * Uniform symbols, fast: the connection's AES-128-CTR keystream (node:crypto, in hardware on
 * most machines), read as 16-bit draws. A draw below the largest multiple of n² (n the
 * alphabet's size) is two symbols, looked up in a table; a draw at or above it is thrown away,
 * so every symbol stays equally likely and independent of the others. The cipher makes the
 * random bits natively, several times faster than a generator in JavaScript, and the loop here
 * only looks up pairs (BENCHMARKS.md, flood, has what each part costs).
 *
 * A symbol depends only on its place in the connection's keystream, never on how the fills
 * were cut or what other connections drew in between: one fill of N symbols gives the same
 * bytes as any split of it into several.
 */
class SymbolStream {
  /** 16-bit draw -> two symbols (low byte first); 0 for a draw to throw away. */
  readonly #pairs: Uint16Array;
  /** Draws kept of every 65536, to size a window for a fill. */
  readonly #kept: number;
  readonly #keystream: Keystream;
  readonly #nonceHigh: number;
  readonly #nonceLow: number;
  /** Keystream bytes drawn so far: always even, since a draw is two bytes. */
  #used = 0;
  /** The second symbol of a draw whose first ended the last fill; 0 for none. */
  #carry = 0;
  /** Keystream bytes our next window holds: doubles for as long as we keep the window. */
  #windowBytes = MIN_WINDOW;

  constructor(alphabet: Buffer, keystream: Keystream, nonceHigh: number, nonceLow: number) {
    this.#pairs = pairTable(alphabet);
    const pairs = alphabet.length * alphabet.length;
    this.#kept = Math.floor(65536 / pairs) * pairs;
    this.#keystream = keystream;
    // Signed 32-bit words fit V8's small integers: no number boxed on the heap per connection.
    this.#nonceHigh = nonceHigh | 0;
    this.#nonceLow = nonceLow | 0;
  }

  fill(out: Buffer, start: number, end: number): void {
    let i = start;
    if (i < end && this.#carry !== 0) {
      out[i++] = this.#carry;
      this.#carry = 0;
    }
    while (i < end) {
      if (shared.owner !== this || this.#used >= shared.end) this.#refill(end - i);
      i = shared.words !== undefined && end - i >= LONG_FILL ? this.#fillLong(out, i, end, shared.words) : this.#fillShort(out, i, end);
    }
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

  /**
   * Two draws a word, their pairs written 16 bits at a time: the same draws as #fillShort, in a
   * loop V8 compiles far tighter. A draw is thrown away rarely (1 in 350 for the default
   * alphabet), so the inner loop runs until one comes and only then closes the gap. Stops a
   * symbol short of an odd `end`, for #fillShort to finish.
   */
  #fillLong(out: Buffer, start: number, end: number, words: Uint32Array): number {
    if (((this.#used - shared.start) & 2) !== 0) {
      // A draw on its own, to reach a word boundary.
      return this.#fillShort(out, start, start + 2);
    }
    const pairs = this.#pairs;
    // Pairs straight into `out` where they fall on 16-bit boundaries, else via the scratch.
    const direct = ((out.byteOffset + start) & 1) === 0;
    const pairsOut = direct ? new Uint16Array(out.buffer, out.byteOffset + start, (end - start) >> 1) : (scratch ??= new Uint16Array(MAX_WINDOW / 2));
    const want = Math.min((end - start) >> 1, pairsOut.length) - 1;
    let w = ((this.#used - shared.start) | 0) >>> 2;
    let k = 0;
    while (k < want && w < words.length) {
      const run = Math.min(words.length - w, (want - k) >> 1);
      const kept = keptRun(pairs, words, w, pairsOut, k, run);
      k += 2 * kept;
      w += kept;
      if (kept < run) {
        const word = words[w++] as number;
        const first = pairs[word & 0xffff] as number;
        const second = pairs[word >>> 16] as number;
        pairsOut[k] = first;
        k += first === 0 ? 0 : 1;
        pairsOut[k] = second;
        k += second === 0 ? 0 : 1;
      } else if (run === 0) break;
    }
    if (!direct) out.set(new Uint8Array(pairsOut.buffer, 0, k * 2), start);
    this.#used = shared.start + w * 4;
    return start + k * 2;
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
    const block = Math.floor(this.#used / 16);
    const skip = this.#used - block * 16;
    const length = Math.min(MAX_WINDOW, Math.ceil((skip + Math.max(this.#windowBytes, wanted)) / 16) * 16);
    const bytes = this.#keystream.window(this.#nonceHigh, this.#nonceLow, block, length);
    shared.owner = this;
    shared.bytes = bytes;
    shared.words = LITTLE_ENDIAN && bytes.byteOffset % 4 === 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset, length / 4) : undefined;
    shared.start = block * 16;
    shared.end = shared.start + length;
  }
}

/** Keystream bytes in a connection's first window: a few chunks of the default 1-5 symbols. */
const MIN_WINDOW = 64;
/** The largest window: a 64 KiB chunk and its thrown-away draws in one cipher call. */
const MAX_WINDOW = 80 * 1024;
/** Fills at least this long go word by word. */
const LONG_FILL = 64;
/** Words in the machine's order are two draws in keystream order on little-endian machines only. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Windows up to this long come from the source's ECB cipher, longer ones from a CTR cipher of their own. */
const SHORT_WINDOW = 1024;
const IV = Buffer.alloc(16);
const COUNTERS = Buffer.alloc(SHORT_WINDOW);
let zeros: Buffer | undefined;
/** Where long fills put their pairs when they fall between 16-bit boundaries of `out`; shared, like the window. */
let scratch: Uint16Array | undefined;

/**
 * One keystream window for every connection, lent to whichever last needed more: the server is
 * single-threaded, and a window each would cost every idle client memory. A connection that
 * loses the window loses nothing: CTR starts anywhere, so its next one starts where it left off.
 */
const shared: { owner: SymbolStream | undefined; bytes: Buffer; words: Uint32Array | undefined; start: number; end: number } = {
  owner: undefined,
  bytes: Buffer.alloc(0),
  words: undefined,
  start: 0,
  end: 0,
};

/**
 * The pairs of up to `run` words while every draw is kept; returns the words done. A function
 * of its own: V8 compiles this loop tighter than the same loop inside a method.
 */
function keptRun(pairs: Uint16Array, words: Uint32Array, from: number, out: Uint16Array, at: number, run: number): number {
  const stop = from + run;
  let w = from;
  let o = at;
  for (; w < stop; w++) {
    const word = words[w] as number;
    const first = pairs[word & 0xffff] as number;
    const second = pairs[word >>> 16] as number;
    if (first === 0 || second === 0) break;
    out[o] = first;
    out[o + 1] = second;
    o += 2;
  }
  return w - from;
}

const pairTables = new WeakMap<Buffer, Uint16Array>();

/** Every pair of symbols by 16-bit draw, the draws past the last whole n² left 0; built once per alphabet. */
function pairTable(alphabet: Buffer): Uint16Array {
  let table = pairTables.get(alphabet);
  if (table === undefined) {
    const size = alphabet.length;
    const kept = Math.floor(65536 / (size * size)) * size * size;
    table = new Uint16Array(65536);
    for (let draw = 0; draw < kept; draw++) {
      const pair = draw % (size * size);
      table[draw] = (alphabet[pair % size] as number) | ((alphabet[Math.floor(pair / size)] as number) << 8);
    }
    pairTables.set(alphabet, table);
  }
  return table;
}
