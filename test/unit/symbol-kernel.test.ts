import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_ALPHABET } from '../../src/server/config.js';
import { mapsByRuns, pairTable, SymbolKernel } from '../../src/server/symbol-kernel.js';

/** Every 16-bit draw once, little-endian, in order. */
const EVERY_DRAW = Buffer.alloc(131_072);
for (let draw = 0; draw < 65_536; draw++) EVERY_DRAW.writeUInt16LE(draw, draw * 2);

/** What the table gives for the draws of `window`: the kept pairs in order. */
function byTable(window: Buffer, alphabet: Buffer): Buffer {
  const table = pairTable(alphabet);
  const out: number[] = [];
  for (let at = 0; at + 1 < window.length; at += 2) {
    const pair = table[window.readUInt16LE(at)] as number;
    if (pair !== 0) out.push(pair & 0xff, pair >>> 8);
  }
  return Buffer.from(out);
}

void describe('SymbolKernel', () => {
  const kernel = new SymbolKernel();
  const printable = Array.from({ length: 93 }, (_, i) => String.fromCharCode(34 + i)).join('');
  // Alphabets of three runs of consecutive bytes or fewer are mapped by adding, the others
  // looked up (with the last two tables for more than 64 symbols): each kind is here.
  const alphabets = [
    DEFAULT_ALPHABET,
    'ab',
    'xyz',
    '0123456789abcdef',
    printable,
    `${DEFAULT_ALPHABET}+/`,
    'zyxwvutsrqponmlkjihgfedcba',
    [...printable].reverse().join(''),
  ];

  void it('has alphabets of both kinds to check', () => {
    const kinds = new Set(alphabets.map((alphabet) => mapsByRuns(Buffer.from(alphabet, 'latin1'))));
    assert.deepEqual([...kinds].sort(), [false, true]);
  });

  for (const alphabet of alphabets) {
    void it(`maps every draw as the table does: ${alphabet.length} symbols`, () => {
      const bytes = Buffer.from(alphabet, 'latin1');
      // Two halves: the kernel's windows are at most KERNEL_WINDOW bytes.
      for (const half of [EVERY_DRAW.subarray(0, 65_536), EVERY_DRAW.subarray(65_536)]) {
        const window = Buffer.from(half);
        const out = Buffer.alloc(window.length);
        const pairs = kernel.map(window, 0, bytes, out, 0, window.length);
        assert.equal(kernel.used, window.length / 2, 'every draw read');
        assert.ok(out.subarray(0, pairs * 2).equals(byTable(window, bytes)));
      }
    });
  }

  void it('stops at the room it is given, and starts anywhere in its window', () => {
    const bytes = Buffer.from(DEFAULT_ALPHABET, 'latin1');
    const window = Buffer.from(EVERY_DRAW.subarray(0, 40_000));
    const expected = byTable(window.subarray(1_002), bytes);
    const out = Buffer.alloc(1_000);
    for (const room of [0, 1, 7, 8, 9, 333]) {
      const pairs = kernel.map(window, 1_002, bytes, out, 3, room);
      assert.equal(pairs, room);
      assert.ok(out.subarray(3, 3 + pairs * 2).equals(expected.subarray(0, pairs * 2)), `room ${room}`);
      // The draws read are exactly those the pairs came from, thrown-away ones included.
      assert.ok(byTable(window.subarray(1_002, 1_002 + kernel.used * 2), bytes).equals(expected.subarray(0, pairs * 2)), `draws read, room ${room}`);
    }
  });
});
