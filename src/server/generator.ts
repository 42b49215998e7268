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
 * 2^64 steps ahead of the previous one, so with a seed the n-th connection always gets the same
 * chunks and waits, however the connections' schedules interleave.
 */
export class StreamSource {
  readonly #root: JumpableRandomGenerator;
  /** The alphabet's bytes, shared by every connection's generator. */
  readonly #alphabets = new Map<string, Buffer>();

  constructor(seed: number | undefined) {
    // Without a seed any start will do; Math.random saves loading node:crypto at start-up.
    this.#root = xoroshiro128plus(seed ?? Math.floor(Math.random() * 0x1_0000_0000));
  }

  next(chars: Range, interval: Range, alphabet: string): SymbolGenerator {
    this.#root.jump();
    let bytes = this.#alphabets.get(alphabet);
    if (bytes === undefined) {
      bytes = Buffer.from(alphabet, 'latin1');
      this.#alphabets.set(alphabet, bytes);
    }
    return new SymbolGenerator(this.#root.clone(), chars, interval, bytes);
  }
}

/** A connection's chunks and waits: the pure part of its schedule. */
export class SymbolGenerator {
  readonly #rng: JumpableRandomGenerator;
  readonly #chars: Range;
  readonly #symbols: SymbolStream;
  readonly #wholeSeconds: boolean;
  readonly #interval: Range;

  constructor(rng: JumpableRandomGenerator, chars: Range, interval: Range, alphabet: Buffer) {
    this.#rng = rng;
    this.#chars = chars;
    this.#symbols = new SymbolStream(alphabet, [rng.next(), rng.next(), rng.next(), rng.next()]);
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
 * Uniform symbols, fast: a xoshiro128** generator (seeded from the connection's stream) whose
 * 32-bit outputs are cut into draws of just enough bits for the alphabet; a draw past the
 * alphabet's end is thrown away, so every symbol stays equally likely. For alphabets of up to
 * 64 symbols (the default has 62), 12-bit draws pick two symbols at once from a table of
 * pairs. A library call per symbol costs about 30 ns; this, under 3 ns: with `--chars 65536`
 * it is the difference between a flood and a trickle.
 */
export class SymbolStream {
  readonly #alphabet: Buffer;
  /** 12-bit draw -> two symbols (low byte first), 0 for a draw to throw away; 6-bit alphabets only. */
  readonly #pairs: Uint16Array | undefined;
  readonly #bits: number;
  readonly #mask: number;
  readonly #drawsPerWord: number;
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;

  constructor(alphabet: Buffer, seed: readonly [number, number, number, number]) {
    this.#alphabet = alphabet;
    this.#bits = Math.max(1, Math.ceil(Math.log2(alphabet.length)));
    this.#mask = (1 << this.#bits) - 1;
    this.#drawsPerWord = Math.floor(32 / this.#bits);
    this.#pairs = this.#bits === 6 ? pairTable(alphabet) : undefined;
    [this.#s0, this.#s1, this.#s2, this.#s3] = seed;
    // xoshiro's one forbidden state.
    if ((this.#s0 | this.#s1 | this.#s2 | this.#s3) === 0) this.#s0 = 1;
  }

  fill(out: Buffer, start: number, end: number): void {
    const pairs = this.#pairs;
    const alphabet = this.#alphabet;
    const size = alphabet.length;
    const bits = this.#bits;
    const mask = this.#mask;
    const draws = this.#drawsPerWord;
    const n = end;
    let s0 = this.#s0;
    let s1 = this.#s1;
    let s2 = this.#s2;
    let s3 = this.#s3;
    let i = start;
    while (i < n) {
      // xoshiro128**: result = rotl(s1 * 5, 7) * 9, then the state update.
      const m = Math.imul(s1, 5);
      let word = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      if (pairs !== undefined && i + 5 <= n) {
        // Two 12-bit draws (two symbols each) and one 6-bit draw: up to 5 symbols a word.
        let pair = pairs[word & 4095] as number;
        if (pair !== 0) {
          out[i++] = pair & 255;
          out[i++] = pair >>> 8;
        }
        pair = pairs[(word >>> 12) & 4095] as number;
        if (pair !== 0) {
          out[i++] = pair & 255;
          out[i++] = pair >>> 8;
        }
        const last = word >>> 26;
        if (last < size) out[i++] = alphabet[last] as number;
        continue;
      }
      for (let d = 0; d < draws && i < n; d++) {
        const draw = word & mask;
        word >>>= bits;
        if (draw < size) out[i++] = alphabet[draw] as number;
      }
    }
    this.#s0 = s0;
    this.#s1 = s1;
    this.#s2 = s2;
    this.#s3 = s3;
  }
}

const pairTables = new WeakMap<Buffer, Uint16Array>();

/** Every pair of symbols of a 33-64 symbol alphabet, by 12-bit draw; built once per alphabet. */
function pairTable(alphabet: Buffer): Uint16Array {
  let table = pairTables.get(alphabet);
  if (table === undefined) {
    table = new Uint16Array(4096);
    for (let draw = 0; draw < 4096; draw++) {
      const first = alphabet[draw & 63];
      const second = alphabet[draw >>> 6];
      table[draw] = first === undefined || second === undefined ? 0 : first | (second << 8);
    }
    pairTables.set(alphabet, table);
  }
  return table;
}
