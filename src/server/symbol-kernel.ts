import { PAGE_BYTES, SEED_BYTES, STEP_BYTES, type Keystream } from './keystream.js';
import { SYMBOLS_WASM } from './symbols-wasm.js';

/**
 * The mapping from keystream to symbols, in its two forms: a table for draws one at a time and
 * a WebAssembly SIMD kernel (symbols.wat) for long runs of them. Both must give the same symbols
 * for the same draws; test/unit/symbol-kernel.test.ts holds them to it. The kernel also makes
 * the keystream's pages from their seeds (keystream.ts).
 *
 * A draw is 16 bits of keystream, little-endian, and gives two symbols or none. For an alphabet
 * of n, a draw x gives the pair floor(x * n² / 65536), split into its two digits in base n, and
 * is thrown away when x * n² mod 65536 is below 65536 mod n² (Lemire's multiply-shift with
 * rejection): every pair is then kept for exactly floor(65536 / n²) draws, so every symbol stays
 * equally likely and independent of the others. The digits come one after the other, each the
 * high half of a 16-bit number times n, the low half going on to the next: no division.
 */

/** The largest alphabet the kernel takes: six tables of 16 (the server takes at most 93 symbols). */
export const KERNEL_SYMBOLS = 96;
/** The most keystream one call maps or makes: a segment (see symbol-lanes.ts) and the page it starts in. */
export const KERNEL_WINDOW = 128 * 1024 + PAGE_BYTES;
// The kernel's memory (see symbols.wat): the alphabet, its runs, the shuffles, the keystream, the symbols, the seeds.
const RUNS_AT = 96;
/** Where in the runs parameters they say whether they serve (offset 103 in symbols.wat). */
const RUNS_SERVE = 7;
/** Runs of consecutive bytes the kernel maps by adding and comparing; an alphabet of more is looked up. */
const MAX_RUNS = 3;
const SHUFFLES_AT = 256;
const KERNEL_IN = 8192;
const KERNEL_OUT = KERNEL_IN + KERNEL_WINDOW;
const KERNEL_SEEDS = KERNEL_OUT + KERNEL_WINDOW;

/** 65536 mod n²: a draw whose x * n² mod 65536 falls below it is thrown away. */
export function rejectionThreshold(size: number): number {
  return 65536 % (size * size);
}

const pairTables = new WeakMap<Buffer, Uint16Array>();

/** The pair of symbols of every 16-bit draw (first symbol in the low byte), 0 for those thrown away; built once per alphabet. */
export function pairTable(alphabet: Buffer): Uint16Array {
  let table = pairTables.get(alphabet);
  if (table === undefined) {
    const size = alphabet.length;
    const threshold = rejectionThreshold(size);
    table = new Uint16Array(65536);
    for (let draw = 0; draw < 65536; draw++) {
      const high = draw * size;
      const low = (high & 0xffff) * size;
      if ((low & 0xffff) >= threshold) table[draw] = (alphabet[high >>> 16] as number) | ((alphabet[low >>> 16] as number) << 8);
    }
    pairTables.set(alphabet, table);
  }
  return table;
}

interface KernelExports {
  expand(seeds: number, pages: number, steps: number, output: number): void;
  pairs(input: number, draws: number, output: number, room: number, size: number, threshold: number): number;
  readonly used: { readonly value: number };
  readonly memory: { readonly buffer: ArrayBuffer };
}

/** What this file uses of the WebAssembly API, which Node's type definitions leave out. */
declare const WebAssembly: { Module: new (bytes: Uint8Array) => object; Instance: new (module: object) => { exports: unknown } };

/**
 * The kernel and its memory: the alphabet at 0, the keystream at KERNEL_IN, the symbols at
 * KERNEL_OUT, the seeds at KERNEL_SEEDS, and the alphabet's runs and the shuffles symbols.wat
 * describes. One per thread, compiled on first use (a few hundred bytes, well under a
 * millisecond). Copying a window in and the symbols out costs about a microsecond each for a
 * 64 KiB chunk, against the tens the mapping takes in JavaScript.
 */
export class SymbolKernel {
  readonly #exports: KernelExports;
  readonly #memory: Uint8Array;
  #alphabet: Buffer | undefined;
  /** The keystream now in the kernel's memory, and where, so that fills sharing a window copy it in once, and a window made here not at all. */
  #window: Uint8Array | undefined;
  #windowAt = KERNEL_IN;
  /** Draws read by the last `map`. */
  #used = 0;

  constructor() {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(SYMBOLS_WASM, 'base64')));
    this.#exports = instance.exports as KernelExports;
    this.#memory = new Uint8Array(this.#exports.memory.buffer);
    // For each mask of kept draws of eight, the bytes of their pairs in order, then zeros (an index past 15).
    for (let mask = 0; mask < 256; mask++) {
      const shuffle = this.#memory.subarray(SHUFFLES_AT + mask * 16, SHUFFLES_AT + mask * 16 + 16).fill(0x80);
      let at = 0;
      for (let draw = 0; draw < 8; draw++) {
        if ((mask & (1 << draw)) === 0) continue;
        shuffle[at++] = 2 * draw;
        shuffle[at++] = 2 * draw + 1;
      }
    }
  }

  /** Draws read by the last `map`. */
  get used(): number {
    return this.#used;
  }

  /**
   * Makes the keystream pages of `seeds` (SEED_BYTES a page) in the kernel's memory, the last
   * only as far as `to`, and returns their bytes from `from` to `to`: copied into `into` when it
   * is given (for a window that must outlive the kernel's next call), else a view of the
   * kernel's memory, valid until then. Either way, a `map` of what it returns reads them where
   * they were made.
   */
  expand(seeds: Uint8Array, from: number, to: number, into?: Uint8Array): Uint8Array {
    const pages = seeds.length / SEED_BYTES;
    const last = (pages - 1) * PAGE_BYTES;
    if (!Number.isInteger(pages) || pages * PAGE_BYTES > KERNEL_WINDOW || to > pages * PAGE_BYTES || to <= last || from < 0 || from > to) {
      throw new RangeError(`the kernel makes up to ${KERNEL_WINDOW / PAGE_BYTES} pages, each of them used: not bytes ${from} to ${to} of ${seeds.length} bytes of seeds`);
    }
    this.#memory.set(seeds, KERNEL_SEEDS);
    if (pages > 1) this.#exports.expand(KERNEL_SEEDS, pages - 1, PAGE_BYTES / STEP_BYTES, KERNEL_IN);
    // A window of a few chunks needs a few steps of its page, not the page.
    this.#exports.expand(KERNEL_SEEDS + (pages - 1) * SEED_BYTES, 1, Math.ceil((to - last) / STEP_BYTES), KERNEL_IN + last);
    let window = this.#memory.subarray(KERNEL_IN + from, KERNEL_IN + to);
    if (into !== undefined) {
      into.set(window);
      window = into.subarray(0, to - from);
    }
    this.#window = window;
    this.#windowAt = KERNEL_IN + from;
    return window;
  }

  /**
   * Bytes `start` to `end` of the keystream of `nonce`, made here from the seeds of the pages
   * they fall in; `into` and what is returned as for `expand`.
   */
  window(keystream: Keystream, nonceHigh: number, nonceLow: number, start: number, end: number, into?: Uint8Array): Uint8Array {
    const page = Math.floor(start / PAGE_BYTES);
    const pageStart = page * PAGE_BYTES;
    const seeds = keystream.seeds(nonceHigh, nonceLow, page, Math.ceil((end - pageStart) / PAGE_BYTES));
    return this.expand(seeds, start - pageStart, end - pageStart, into);
  }

  /**
   * Maps the draws of `window` from byte `from` on, up to `room` pairs of symbols, into `out`
   * at `at`; returns the pairs written (`used` tells the draws read).
   */
  map(window: Uint8Array, from: number, alphabet: Buffer, out: Uint8Array, at: number, room: number): number {
    if (this.#window !== window) {
      this.#memory.set(window, KERNEL_IN);
      this.#window = window;
      this.#windowAt = KERNEL_IN;
    }
    if (this.#alphabet !== alphabet) {
      // Never with the server's alphabets (at most 93 symbols, printable ASCII each once).
      if (alphabet.length > KERNEL_SYMBOLS) throw new RangeError(`the symbol kernel takes at most ${KERNEL_SYMBOLS} symbols, not ${alphabet.length}`);
      this.#memory.fill(0, 0, KERNEL_SYMBOLS).set(alphabet, 0);
      this.#memory.set(runsOf(alphabet), RUNS_AT);
      this.#alphabet = alphabet;
    }
    const size = alphabet.length;
    const draws = (window.length - from) >> 1;
    const pairs = this.#exports.pairs(this.#windowAt + from, draws, KERNEL_OUT, Math.min(room, draws), size, rejectionThreshold(size));
    this.#used = this.#exports.used.value;
    out.set(this.#memory.subarray(KERNEL_OUT, KERNEL_OUT + pairs * 2), at);
    return pairs;
  }
}

/** Whether the kernel maps `alphabet` by its runs (three or fewer), not by looking its symbols up. */
export function mapsByRuns(alphabet: Buffer): boolean {
  return runsOf(alphabet)[RUNS_SERVE] === 1;
}

/**
 * The kernel's runs parameters for an alphabet (see symbols.wat): the first symbol, then for
 * the second and third runs the last index before each and what each adds to the symbol of an
 * index over the run before it (mod 256), and at RUNS_SERVE whether they serve.
 */
function runsOf(alphabet: Buffer): Uint8Array {
  const starts = [0];
  for (let at = 1; at < alphabet.length; at++) if (alphabet[at] !== (alphabet[at - 1] as number) + 1) starts.push(at);
  const params = new Uint8Array(8);
  if (starts.length > MAX_RUNS) return params;
  params[0] = alphabet[0] as number;
  for (let run = 1; run < MAX_RUNS; run++) {
    const at = starts[run];
    // No such run: an index over 127 never comes.
    params[2 * run - 1] = at === undefined ? 127 : at - 1;
    params[2 * run] = at === undefined ? 0 : (alphabet[at] as number) - at - ((alphabet[at - 1] as number) - (at - 1));
  }
  params[RUNS_SERVE] = 1;
  return params;
}
