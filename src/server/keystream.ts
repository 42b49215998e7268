import { createCipheriv, type Cipher } from 'node:crypto';

/**
 * AES-128-CTR under one key per source, a keystream per connection told apart by its random
 * 64-bit nonce: block b of a connection's keystream is AES(key, nonce || b), CTR's 128-bit
 * big-endian counter. Long windows come from a CTR cipher made for the window; short ones,
 * which a connection drawing a chunk now and then needs at nearly every chunk, from one ECB
 * cipher kept for the source and fed the counter blocks: making a cipher costs about 2 us, the
 * ECB call well under one.
 */
export class Keystream {
  readonly key: Buffer;
  #ecb: Cipher | undefined;

  constructor(key: Buffer) {
    this.key = key;
  }

  /** `length` bytes (a multiple of 16) of the keystream of `nonce`, from its block `block` on. */
  window(nonceHigh: number, nonceLow: number, block: number, length: number): Buffer {
    if (length <= SHORT_WINDOW) {
      this.#ecb ??= createCipheriv('aes-128-ecb', this.key, null).setAutoPadding(false);
      for (let at = 0; at < length; at += 16, block++) counterBlock(COUNTERS, at, nonceHigh, nonceLow, block);
      return this.#ecb.update(COUNTERS.subarray(0, length));
    }
    counterBlock(IV, 0, nonceHigh, nonceLow, block);
    if (zeros.length < length) zeros = Buffer.alloc(length);
    return createCipheriv('aes-128-ctr', this.key, IV).update(zeros.subarray(0, length));
  }
}

function counterBlock(out: Buffer, at: number, nonceHigh: number, nonceLow: number, block: number): void {
  out.writeInt32BE(nonceHigh, at);
  out.writeInt32BE(nonceLow, at + 4);
  out.writeUInt32BE(Math.floor(block / 0x1_0000_0000), at + 8);
  out.writeUInt32BE(block >>> 0, at + 12);
}

/** Windows up to this long come from the source's ECB cipher, longer ones from a CTR cipher of their own. */
const SHORT_WINDOW = 1024;
const IV = Buffer.alloc(16);
const COUNTERS = Buffer.alloc(SHORT_WINDOW);
/** CTR encrypts zeros to give the bare keystream; grown to the longest window asked for. */
let zeros = Buffer.alloc(0);
