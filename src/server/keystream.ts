import { createCipheriv, type Cipher } from 'node:crypto';

/**
 * A connection's keystream, the random bits its symbols are drawn from: pages of PAGE_BYTES,
 * each xoshiro128++ in eight 32-bit lanes (symbols.wat has the layout), seeded by SEED_BYTES of
 * AES-128-CTR under one key per source, a stream of seeds per connection told apart by its
 * random 64-bit nonce: page p's seed is AES(key, nonce || b) for its blocks b = 8p to 8p + 7,
 * CTR's 128-bit big-endian counter.
 *
 * Why both: AES makes the pages independent of each other and of every other connection's, and
 * any page can be made on its own, by either thread, with no state carried from the one before;
 * xoshiro128++ (statistically sound, not a cipher: nothing here is a secret) makes the bulk of
 * the bits in the WebAssembly kernel, in its own memory, where node:crypto's output would be a
 * fresh allocation to zero, fault in and copy for every call. BENCHMARKS.md, flood, has the
 * figures. (A lane seeded with all zeros would give zeros for its page: one chance in 2^128.)
 */
export class Keystream {
  readonly key: Buffer;
  #ecb: Cipher | undefined;

  constructor(key: Buffer) {
    this.key = key;
  }

  /** The seeds of `pages` pages of the keystream of `nonce`, from page `page` on. */
  seeds(nonceHigh: number, nonceLow: number, page: number, pages: number): Buffer {
    let block = page * SEED_BLOCKS;
    const length = pages * SEED_BYTES;
    // Short runs of seeds, which a connection drawing a chunk now and then needs at nearly
    // every chunk, come from one ECB cipher kept for the source and fed the counter blocks:
    // making a cipher costs about 2 us, the ECB call well under one.
    if (length <= SHORT_SEEDS) {
      this.#ecb ??= createCipheriv('aes-128-ecb', this.key, null).setAutoPadding(false);
      for (let at = 0; at < length; at += 16, block++) counterBlock(COUNTERS_VIEW, at, nonceHigh, nonceLow, block);
      return this.#ecb.update(COUNTERS.subarray(0, length));
    }
    counterBlock(IV_VIEW, 0, nonceHigh, nonceLow, block);
    if (zeros.length < length) zeros = Buffer.alloc(length);
    return createCipheriv('aes-128-ctr', this.key, IV).update(zeros.subarray(0, length));
  }
}

/** Keystream bytes a step of xoshiro128++ in eight lanes makes. */
export const STEP_BYTES = 32;
/** Keystream bytes a page holds: 128 steps. */
export const PAGE_BYTES = 128 * STEP_BYTES;
/** A page's seed: eight 128-bit states, eight AES blocks. */
export const SEED_BYTES = 128;
const SEED_BLOCKS = SEED_BYTES / 16;

/** A DataView's writes, not Buffer's: 0.01 us for a page's eight blocks against 0.25, at every chunk of an idle client. */
function counterBlock(out: DataView, at: number, nonceHigh: number, nonceLow: number, block: number): void {
  out.setInt32(at, nonceHigh);
  out.setInt32(at + 4, nonceLow);
  out.setUint32(at + 8, Math.floor(block / 0x1_0000_0000));
  out.setUint32(at + 12, block >>> 0);
}

/** Seeds up to this long come from the source's ECB cipher (eight pages), longer ones from a CTR cipher of their own. */
const SHORT_SEEDS = 1024;
const IV = Buffer.alloc(16);
const IV_VIEW = new DataView(IV.buffer, IV.byteOffset, IV.byteLength);
const COUNTERS = Buffer.alloc(SHORT_SEEDS);
const COUNTERS_VIEW = new DataView(COUNTERS.buffer, COUNTERS.byteOffset, COUNTERS.byteLength);
/** CTR encrypts zeros to give the bare keystream; grown to the longest run of seeds asked for. */
let zeros = Buffer.alloc(0);
