import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DEFAULT_ALPHABET } from '../../src/server/config.js';
import { StreamSource, type SymbolGenerator } from '../../src/server/generator.js';
import { laneCounts, setHelperWait, stopLaneHelper } from '../../src/server/symbol-lanes.js';
import { drawSymbols } from '../support/symbols.js';
import { waitFor } from '../support/wait.js';

// Flooding streams (no wait between chunks) take a lane: their symbols come in segments made by
// the helper thread or, where it lags, on this one. Every case compares them with the same
// stream drawn wholly on this thread, as a stream with a wait draws it.

const CHARS = { min: 1, max: 5 };
const FLOODS = { min: 0, max: 0 };
const WAITS = { min: 1, max: 5 };
/** Every symbol the server takes: printable ASCII without space or `:`. */
const LARGEST_ALPHABET = Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i))
  .filter((symbol) => symbol !== ':')
  .join('');

function streams(seed: number, count: number, interval: { min: number; max: number }, alphabet = DEFAULT_ALPHABET): SymbolGenerator[] {
  const source = new StreamSource(seed);
  return Array.from({ length: count }, () => source.next(CHARS, interval, alphabet));
}

void describe('symbol lanes', () => {
  void it('give a flooding stream the symbols it would draw on this thread, for every kind of alphabet and cut', () => {
    const cut = fc.oneof(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 1000, max: 1100 }), fc.integer({ min: 1, max: 300_000 }));
    const cuts = fc.array(cut, { minLength: 1, maxLength: 30 }).filter((lengths) => lengths.some((length) => length > 0));
    for (const alphabet of [DEFAULT_ALPHABET, LARGEST_ALPHABET, 'xyz', 'ab']) {
      const total = 1_500_000;
      const [reference] = streams(7, 1, WAITS, alphabet) as [SymbolGenerator];
      const whole = drawSymbols(reference, total, () => 65_536);
      fc.assert(
        fc.property(cuts, (lengths) => {
          const [flooding] = streams(7, 1, FLOODS, alphabet) as [SymbolGenerator];
          let next = 0;
          const symbols = drawSymbols(flooding, total, () => lengths[next++ % lengths.length] as number);
          flooding.release();
          assert.ok(symbols.equals(whole));
        }),
        { numRuns: 8 },
      );
    }
  });

  void it('have the helper thread make segments while the stream is not drawing', async () => {
    const [flooding] = streams(11, 1, FLOODS) as [SymbolGenerator];
    const [reference] = streams(11, 1, WAITS) as [SymbolGenerator];
    const before = laneCounts().helper;
    const first = Buffer.alloc(2048);
    flooding.fill(first, 0, first.length);
    // The lane queued its segments and this fill needed the first, which this thread made (the
    // helper starts from the far end): the helper makes the others.
    await waitFor(() => laneCounts().helper >= before + 2, { timeoutMs: 10_000, what: 'the helper to make two segments' });
    const rest = drawSymbols(flooding, 600_000, () => 65_536);
    flooding.release();
    assert.ok(Buffer.concat([first, rest]).equals(drawSymbols(reference, 2048 + 600_000, () => 65_536)));
  });

  void it('serve more flooding streams than there are lanes, and hand a lane given back to the next stream', () => {
    const flooding = streams(23, 9, FLOODS);
    const alone = streams(23, 9, WAITS).map((generator) => drawSymbols(generator, 400_000, () => 40_000));
    const together = flooding.map(() => Buffer.alloc(400_000));
    // Interleaved, a fill each in turn; the first three end half-way, giving their lanes back.
    for (let at = 0; at < 400_000; at += 40_000) {
      flooding.forEach((generator, index) => {
        if (index < 3 && at >= 200_000) return;
        generator.fill(together[index] as Buffer, at, at + 40_000);
        if (index < 3 && at + 40_000 === 200_000) generator.release();
      });
    }
    together.forEach((symbols, index) => {
      const length = index < 3 ? 200_000 : 400_000;
      assert.ok(symbols.subarray(0, length).equals((alone[index] as Buffer).subarray(0, length)), `stream ${index + 1}`);
    });
    const late = streams(23, 12, FLOODS).slice(9);
    const lateAlone = streams(23, 12, WAITS).slice(9);
    late.forEach((generator, index) => {
      assert.ok(drawSymbols(generator, 300_000, () => 65_536).equals(drawSymbols(lateAlone[index] as SymbolGenerator, 300_000, () => 65_536)), `late stream ${index + 1}`);
    });
    for (const generator of [...flooding, ...late]) generator.release();
  });

  void it('give the same symbols when the helper is late, and the stream makes the segments it is still making', () => {
    // With no wait at all, every segment the helper is still making when the stream needs it is
    // late; rounds go on until some were (the first, nearly always), each checked in full.
    const wait = setHelperWait(0);
    const late = laneCounts().late;
    try {
      for (let seed = 41; laneCounts().late === late; seed++) {
        assert.ok(seed < 91, 'the helper was never late in 50 rounds: it does not run');
        const flooding = streams(seed, 3, FLOODS);
        const alone = streams(seed, 3, WAITS).map((generator) => drawSymbols(generator, 3_000_000, () => 65_536));
        const together = flooding.map(() => Buffer.alloc(3_000_000));
        for (let at = 0; at < 3_000_000; at += 50_000) {
          flooding.forEach((generator, index) => generator.fill(together[index] as Buffer, at, at + 50_000));
        }
        together.forEach((symbols, index) => assert.ok(symbols.equals(alone[index] as Buffer), `seed ${seed}, stream ${index + 1}`));
        for (const generator of flooding) generator.release();
      }
    } finally {
      setHelperWait(wait);
    }
  });

  void it('lend symbols that stay as they were until they are reclaimed, however far the stream goes meanwhile', () => {
    const [flooding] = streams(13, 1, FLOODS) as [SymbolGenerator];
    const [reference] = streams(13, 1, WAITS) as [SymbolGenerator];
    // A fill takes the lane (copying), then everything is lent: first 3 MB held at once, more
    // than every slot of the lane, while the helper goes on making segments into the slots the
    // stream has passed; then reclaimed after every piece, as a socket that keeps up does.
    const first = Buffer.alloc(2_048);
    flooding.fill(first, 0, first.length);
    assert.ok(flooding.lends, 'the stream lends once it has a lane');
    const held: Uint8Array[] = [];
    for (let at = 0; at < 3_000_000; at += 60_000) flooding.lend(60_000, held);
    const heldBytes = Buffer.concat(held);
    assert.ok(Buffer.concat([first, heldBytes]).equals(drawSymbols(reference, first.length + heldBytes.length, () => 65_536)), 'held while the stream went on');
    flooding.reclaim();
    const reclaimedEach: Buffer[] = [];
    for (let at = 0; at < 2_000_000; at += 50_000) {
      const pieces: Uint8Array[] = [];
      flooding.lend(50_000, pieces);
      reclaimedEach.push(Buffer.concat(pieces));
      flooding.reclaim();
    }
    // And a fill after lending gives the next symbols too.
    const last = Buffer.alloc(100_000);
    flooding.fill(last, 0, last.length);
    flooding.release();
    assert.ok(Buffer.concat([...reclaimedEach, last]).equals(drawSymbols(reference, 2_100_000, () => 65_536)), 'reclaimed as it went');
  });

  // Last: the helper does not come back.
  void it('go on with the same symbols once the helper has stopped', async () => {
    const [flooding] = streams(31, 1, FLOODS) as [SymbolGenerator];
    const [reference] = streams(31, 1, WAITS) as [SymbolGenerator];
    const before = drawSymbols(flooding, 500_000, () => 65_536);
    await stopLaneHelper();
    const made = laneCounts().here;
    const after = drawSymbols(flooding, 500_000, () => 65_535);
    const [fresh] = streams(37, 1, FLOODS) as [SymbolGenerator];
    const [freshReference] = streams(37, 1, WAITS) as [SymbolGenerator];
    assert.ok(Buffer.concat([before, after]).equals(drawSymbols(reference, 1_000_000, () => 65_536)));
    assert.ok(laneCounts().here > made, 'the segments after the stop made on this thread');
    assert.ok(drawSymbols(fresh, 300_000, () => 65_536).equals(drawSymbols(freshReference, 300_000, () => 65_536)));
  });
});
