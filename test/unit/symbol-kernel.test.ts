import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_ALPHABET } from '../../src/server/config.js';
import { PAGE_BYTES, SEED_BYTES } from '../../src/server/keystream.js';
import { KERNEL_WINDOW, mapsByRuns, pairTable, SymbolKernel } from '../../src/server/symbol-kernel.js';
import { Random } from '../support/random.js';

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

  void it('makes xoshiro128++ in every lane: the reference outputs for the state 1, 2, 3, 4', () => {
    // The first ten outputs of the reference implementation (xoshiro128plusplus.c) for that state.
    const reference = [641, 1573767, 3222811527, 3517856514, 836907274, 4247214768, 3867114732, 1355841295, 495546011, 621204420];
    const seeds = Buffer.alloc(SEED_BYTES);
    for (let word = 0; word < 32; word++) seeds.writeUInt32LE((Math.floor(word / 4) % 4) + 1, word * 4);
    const page = kernel.expand(seeds, 0, PAGE_BYTES);
    const words = new DataView(page.buffer, page.byteOffset, page.byteLength);
    for (let lane = 0; lane < 8; lane++) {
      const outputs = reference.map((_, step) => words.getUint32(step * 32 + lane * 4, true));
      assert.deepEqual(outputs, reference, `lane ${lane}`);
    }
  });

  void it('makes pages as the layout says, each from its own seed', () => {
    const random = new Random(7);
    for (const pages of [1, 2, KERNEL_WINDOW / PAGE_BYTES]) {
      const seeds = random.bytes(pages * SEED_BYTES);
      const model = pagesOf(seeds);
      assert.ok(Buffer.from(kernel.expand(seeds, 0, pages * PAGE_BYTES)).equals(model), `${pages} pages`);
      // A page depends on its seed only.
      const last = Buffer.from(kernel.expand(seeds.subarray((pages - 1) * SEED_BYTES), 0, PAGE_BYTES));
      assert.ok(last.equals(model.subarray((pages - 1) * PAGE_BYTES)), `the last of ${pages} pages alone`);
      // Any part of them, the last page made only as far as it is needed.
      for (let i = 0; i < 20; i++) {
        const to = random.int((pages - 1) * PAGE_BYTES + 1, pages * PAGE_BYTES);
        const from = random.int(0, to);
        assert.ok(Buffer.from(kernel.expand(seeds, from, to)).equals(model.subarray(from, to)), `bytes ${from} to ${to} of ${pages} pages`);
      }
    }
  });

  void it('maps what it made where it made it, or from the copy it was given, alike', () => {
    const bytes = Buffer.from(DEFAULT_ALPHABET, 'latin1');
    const seeds = new Random(8).bytes(3 * SEED_BYTES);
    const expected = byTable(pagesOf(seeds).subarray(10, 3 * PAGE_BYTES - 6), bytes);
    const out = Buffer.alloc(3 * PAGE_BYTES);
    const view = kernel.expand(seeds, 4, 3 * PAGE_BYTES - 6);
    let pairs = kernel.map(view, 6, bytes, out, 0, out.length);
    assert.ok(out.subarray(0, pairs * 2).equals(expected), 'in place');
    const copy = kernel.expand(seeds, 4, 3 * PAGE_BYTES - 6, new Uint8Array(3 * PAGE_BYTES));
    assert.equal(copy.length, 3 * PAGE_BYTES - 10);
    out.fill(0);
    pairs = kernel.map(copy, 6, bytes, out, 0, out.length);
    assert.ok(out.subarray(0, pairs * 2).equals(expected), 'the copy, where it was made');
    // Something else made in between: the copy is mapped from itself, not from the kernel's memory.
    kernel.expand(new Random(9).bytes(3 * SEED_BYTES), 0, 3 * PAGE_BYTES);
    out.fill(0);
    pairs = kernel.map(copy, 6, bytes, out, 0, out.length);
    assert.ok(out.subarray(0, pairs * 2).equals(expected), 'the copy, copied in');
  });

  void it('makes no more pages than its window holds, and only pages it is asked for bytes of', () => {
    assert.throws(() => kernel.expand(Buffer.alloc(SEED_BYTES + 1), 0, PAGE_BYTES), RangeError);
    assert.throws(() => kernel.expand(Buffer.alloc(SEED_BYTES), 0, PAGE_BYTES + 1), RangeError);
    assert.throws(() => kernel.expand(Buffer.alloc(2 * SEED_BYTES), 0, PAGE_BYTES), RangeError);
    assert.throws(() => kernel.expand(Buffer.alloc(SEED_BYTES), 10, 9), RangeError);
    const pages = KERNEL_WINDOW / PAGE_BYTES + 1;
    assert.throws(() => kernel.expand(Buffer.alloc(SEED_BYTES * pages), 0, pages * PAGE_BYTES), RangeError);
  });
});

/** The keystream pages of `seeds`, word by word as keystream.ts and symbols.wat describe them: the model the kernel is held to. */
function pagesOf(seeds: Buffer): Buffer {
  const pages = seeds.length / SEED_BYTES;
  const out = Buffer.alloc(pages * PAGE_BYTES);
  const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;
  for (let page = 0; page < pages; page++) {
    for (let lane = 0; lane < 8; lane++) {
      // The seed: s0 of lanes 0-3, s1, s2, s3, then the same for lanes 4-7.
      const at = page * SEED_BYTES + (lane >> 2) * 64 + (lane & 3) * 4;
      let [s0, s1, s2, s3] = [0, 1, 2, 3].map((word) => seeds.readUInt32LE(at + word * 16)) as [number, number, number, number];
      for (let step = 0; step < PAGE_BYTES / 32; step++) {
        out.writeUInt32LE((rotl((s0 + s3) >>> 0, 7) + s0) >>> 0, page * PAGE_BYTES + step * 32 + lane * 4);
        const t = (s1 << 9) >>> 0;
        s2 = (s2 ^ s0) >>> 0;
        s3 = (s3 ^ s1) >>> 0;
        s1 = (s1 ^ s2) >>> 0;
        s0 = (s0 ^ s3) >>> 0;
        s2 = (s2 ^ t) >>> 0;
        s3 = rotl(s3, 11);
      }
    }
  }
  return out;
}
