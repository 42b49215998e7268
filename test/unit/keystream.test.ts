import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { describe, it } from 'node:test';
import { Keystream, SEED_BYTES } from '../../src/server/keystream.js';

void describe('Keystream seeds', () => {
  const key = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
  const keystream = new Keystream(key);

  void it("are AES-128-CTR from the page's first block on, the counter the nonce and the block number", () => {
    const iv = Buffer.from('89abcdef0123456700000000000000a0', 'hex');
    const expected = createCipheriv('aes-128-ctr', key, iv).update(Buffer.alloc(3 * SEED_BYTES));
    // Page 20 begins at block 160 (0xa0); 0x89abcdef is negative as a signed 32-bit word.
    assert.ok(keystream.seeds(0x89abcdef | 0, 0x01234567, 20, 3).equals(expected));
  });

  void it('are the same from the short path (ECB) and the long one (CTR), page by page', () => {
    const long = keystream.seeds(5, 6, 0, 40);
    for (let page = 0; page < 40; page++) {
      assert.ok(keystream.seeds(5, 6, page, 1).equals(long.subarray(page * SEED_BYTES, (page + 1) * SEED_BYTES)), `page ${page}`);
    }
    // The counter's high word: a stream 2^32 blocks long goes on past it.
    const far = 2 ** 29;
    assert.ok(keystream.seeds(5, 6, far, 1).equals(keystream.seeds(5, 6, far - 8, 9).subarray(8 * SEED_BYTES)));
  });

  void it('differ from one nonce to the next', () => {
    assert.ok(!keystream.seeds(5, 6, 0, 1).equals(keystream.seeds(5, 7, 0, 1)));
    assert.ok(!keystream.seeds(5, 6, 0, 1).equals(keystream.seeds(6, 6, 0, 1)));
  });
});
