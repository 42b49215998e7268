import { randomInt } from 'node:crypto';
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

  constructor(seed: number | undefined) {
    this.#root = xoroshiro128plus(seed ?? randomInt(0x1_0000_0000));
  }

  next(chars: Range, interval: Range, alphabet: string): SymbolGenerator {
    this.#root.jump();
    return new SymbolGenerator(this.#root.clone(), chars, interval, alphabet);
  }
}

/** A connection's chunks and waits: the pure part of its schedule. */
export class SymbolGenerator {
  readonly #rng: JumpableRandomGenerator;
  readonly #chars: Range;
  readonly #alphabet: Buffer;
  readonly #wholeSeconds: boolean;
  readonly #interval: Range;

  constructor(rng: JumpableRandomGenerator, chars: Range, interval: Range, alphabet: string) {
    this.#rng = rng;
    this.#chars = chars;
    this.#alphabet = Buffer.from(alphabet, 'latin1');
    this.#interval = interval;
    this.#wholeSeconds = Number.isInteger(interval.min) && Number.isInteger(interval.max);
  }

  /** The next chunk: between chars.min and chars.max symbols of the alphabet. */
  nextChunk(): Buffer {
    const length = uniformInt(this.#rng, this.#chars.min, this.#chars.max);
    const chunk = Buffer.allocUnsafe(length);
    const last = this.#alphabet.length - 1;
    for (let i = 0; i < length; i++) chunk[i] = this.#alphabet[uniformInt(this.#rng, 0, last)] as number;
    return chunk;
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
