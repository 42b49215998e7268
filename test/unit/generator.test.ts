import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DEFAULT_ALPHABET } from '../../src/server/config.js';
import { StreamSource, type SymbolGenerator, type Wait } from '../../src/server/generator.js';
import { drawSymbols } from '../support/symbols.js';

const CHARS = { min: 1, max: 5 };
const WHOLE = { min: 1, max: 5 };

interface Draws {
  readonly chunks: string[];
  readonly waits: Wait[];
}

/** Interleaves chunks and waits as a session does: wait, chunk, wait, chunk... */
function draw(generator: SymbolGenerator, count: number): Draws {
  const chunks: string[] = [];
  const waits: Wait[] = [];
  for (let i = 0; i < count; i++) {
    waits.push(generator.nextWait());
    chunks.push(generator.nextChunk().toString('latin1'));
  }
  return { chunks, waits };
}

/** The n-th stream (from 1) of a fresh source with this seed. */
function nthStream(seed: number | undefined, n: number, chars = CHARS, interval = WHOLE, alphabet = DEFAULT_ALPHABET): SymbolGenerator {
  const source = new StreamSource(seed);
  let generator: SymbolGenerator | undefined;
  for (let i = 0; i < n; i++) generator = source.next(chars, interval, alphabet);
  return generator as SymbolGenerator;
}

void describe('StreamSource', () => {
  void it('gives the n-th stream the same chunks and waits for the same seed', () => {
    for (const n of [1, 2, 7]) {
      assert.deepEqual(draw(nthStream(42, n), 50), draw(nthStream(42, n), 50), `stream ${n}`);
    }
  });

  void it("gives the n-th stream the same draws whatever the earlier streams drew", () => {
    const quiet = new StreamSource(7);
    quiet.next(CHARS, WHOLE, DEFAULT_ALPHABET);
    const secondOfQuiet = quiet.next(CHARS, WHOLE, DEFAULT_ALPHABET);

    const busy = new StreamSource(7);
    draw(busy.next(CHARS, WHOLE, DEFAULT_ALPHABET), 1000);
    const secondOfBusy = busy.next(CHARS, WHOLE, DEFAULT_ALPHABET);

    assert.deepEqual(draw(secondOfBusy, 50), draw(secondOfQuiet, 50));
  });

  void it('gives different streams different draws', () => {
    const source = new StreamSource(42);
    const streams = Array.from({ length: 5 }, () => draw(source.next(CHARS, WHOLE, DEFAULT_ALPHABET), 30).chunks.join('|'));
    assert.equal(new Set(streams).size, streams.length);
  });

  void it('gives different seeds different draws', () => {
    assert.notDeepEqual(draw(nthStream(1, 1), 30), draw(nthStream(2, 1), 30));
  });

  void it('draws from a random seed when none is given', () => {
    assert.notDeepEqual(draw(nthStream(undefined, 1), 30), draw(nthStream(undefined, 1), 30));
  });

  void it('gives the n-th stream the same long chunks for the same seed, and other streams others', () => {
    const long = { min: 65_536, max: 65_536 };
    const chunks = (seed: number, n: number): string[] => draw(nthStream(seed, n, long, WHOLE), 3).chunks;
    assert.deepEqual(chunks(42, 3), chunks(42, 3));
    assert.notDeepEqual(chunks(42, 3), chunks(42, 2));
    assert.notDeepEqual(chunks(42, 3), chunks(43, 3));
  });
});

/** Every symbol the server takes: printable ASCII without space or `:`. */
const LARGEST_ALPHABET = Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i))
  .filter((symbol) => symbol !== ':')
  .join('');

/**
 * One alphabet of each size class the generator treats differently: draws are 16 bits, two
 * symbols each, kept below the largest multiple of n², so powers of two keep every draw and the
 * others throw away some (the default 0.3 %, 3 symbols 0.01 %, 93 symbols 7.6 %, 91 the most:
 * 11.6 %).
 */
const ALPHABETS: Record<string, string> = {
  'the default 62': DEFAULT_ALPHABET,
  '64': `${DEFAULT_ALPHABET}+/`,
  '16': '0123456789abcdef',
  '2': 'ab',
  '3': 'xyz',
  '91': LARGEST_ALPHABET.slice(0, 91),
  '93': LARGEST_ALPHABET,
};

/** Symbols of `alphabet` from the first stream of a seeded source, drawn in fills of `lengths()`. */
function symbolsOf(alphabet: string, total: number, lengths: () => number, seed = 2024, interval = WHOLE): Buffer {
  return drawSymbols(nthStream(seed, 1, CHARS, interval, alphabet), total, lengths);
}

/** Pearson's statistic for the symbol counts against equal shares; fails on a symbol not in the alphabet. */
function chiSquared(symbols: Buffer, alphabet: string): number {
  const counts = new Array<number>(256).fill(0);
  for (const symbol of symbols) counts[symbol] = (counts[symbol] as number) + 1;
  const cells = [...Buffer.from(alphabet, 'latin1')].map((code) => counts[code] as number);
  assert.equal(cells.reduce((sum, count) => sum + count, 0), symbols.length, 'every symbol from the alphabet');
  return pearson(cells);
}

/** Pearson's statistic for counts against equal shares of their total. */
function pearson(counts: readonly number[]): number {
  const expected = counts.reduce((sum, count) => sum + count, 0) / counts.length;
  return counts.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
}

/** The chi-squared value a uniform source exceeds once in a million (Wilson-Hilferty). */
function criticalValue(degreesOfFreedom: number): number {
  const z = 4.753;
  const k = 2 / (9 * degreesOfFreedom);
  return degreesOfFreedom * (1 - k + z * Math.sqrt(k)) ** 3;
}

void describe('SymbolGenerator symbols', () => {
  // Eight million symbols a case: enough for a mapping without rejection (modulo n² over all
  // 65536 draws) or one that replaces thrown-away draws with a fixed pair to fail for the
  // default alphabet and 91 and 93 symbols; for 3 symbols such a bias (7 draws in 65536) is
  // below what any sample of this size shows, and powers of two throw nothing away.
  const total = 1 << 23;
  let short = 0;
  const paths: Record<string, () => number> = {
    'fills of 1-5 symbols': () => 1 + (short++ % 5),
    'fills of 65536 symbols': () => 65_536,
    'fills of 65535 symbols (a symbol carried into the next)': () => 65_535,
  };
  for (const [size, alphabet] of Object.entries(ALPHABETS)) {
    for (const [path, lengths] of Object.entries(paths)) {
      void it(`draws every symbol equally often: ${size} symbols, ${path}`, () => {
        const statistic = chiSquared(symbolsOf(alphabet, total, lengths), alphabet);
        const limit = criticalValue(alphabet.length - 1);
        assert.ok(statistic < limit, `chi-squared ${statistic.toFixed(1)} over ${alphabet.length - 1} degrees of freedom, limit ${limit.toFixed(1)}`);
      });
    }
    // A stream with no wait floods: its symbols come in segments, from the helper thread or this one (symbol-lanes.ts).
    void it(`draws every symbol equally often: ${size} symbols, a flooding stream's segments`, () => {
      const statistic = chiSquared(symbolsOf(alphabet, total, () => 65_536, 2024, { min: 0, max: 0 }), alphabet);
      const limit = criticalValue(alphabet.length - 1);
      assert.ok(statistic < limit, `chi-squared ${statistic.toFixed(1)} over ${alphabet.length - 1} degrees of freedom, limit ${limit.toFixed(1)}`);
    });
  }

  // Symbols are independent of their neighbours: every ordered pair of neighbours, taken two by
  // two so that the pairs are independent too, is as likely as any other, whichever thread or
  // path made them. From even places the pairs are mostly a draw's two symbols (the mapping);
  // from odd places, a draw's second and the next one's first, across 32-bit words (xoshiro's
  // lanes), steps and pages too.
  for (const [path, lengths, interval] of [
    ['fills of 1-5 symbols', () => 1 + (short++ % 5), WHOLE],
    ['fills of 65536 symbols', () => 65_536, WHOLE],
    ["a flooding stream's segments", () => 65_536, { min: 0, max: 0 }],
  ] as const) {
    void it(`draws every pair of neighbouring symbols equally often: the default 62, ${path}`, () => {
      const symbols = symbolsOf(DEFAULT_ALPHABET, total, lengths, 2025, interval);
      const size = DEFAULT_ALPHABET.length;
      const index = new Map([...Buffer.from(DEFAULT_ALPHABET, 'latin1')].map((code, i) => [code, i]));
      for (const first of [0, 1]) {
        const counts = new Array<number>(size * size).fill(0);
        for (let at = first; at + 1 < symbols.length; at += 2) {
          const cell = (index.get(symbols[at] as number) as number) * size + (index.get(symbols[at + 1] as number) as number);
          counts[cell] = (counts[cell] as number) + 1;
        }
        const statistic = pearson(counts);
        const limit = criticalValue(counts.length - 1);
        assert.ok(statistic < limit, `pairs from ${first === 0 ? 'even' : 'odd'} places: chi-squared ${statistic.toFixed(1)} over ${counts.length - 1} degrees of freedom, limit ${limit.toFixed(1)}`);
      }
    });
  }

  void it('gives the same symbols however the fills are cut', () => {
    // Cuts of every kind: empty, single symbols, odd and even, about the word-at-a-time
    // threshold, longer than a keystream window.
    const cut = fc.oneof(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 60, max: 70 }), fc.integer({ min: 1, max: 120_000 }));
    const cutsArbitrary = fc.array(cut, { minLength: 1, maxLength: 60 }).filter((cuts) => cuts.some((length) => length > 0));
    for (const alphabet of [DEFAULT_ALPHABET, LARGEST_ALPHABET, 'xyz']) {
      const total = 400_000;
      const whole = symbolsOf(alphabet, total, () => total);
      fc.assert(
        fc.property(cutsArbitrary, (cuts) => {
          let next = 0;
          const pieces = symbolsOf(alphabet, total, () => cuts[next++ % cuts.length] as number);
          assert.ok(pieces.equals(whole));
        }),
        { numRuns: 15 },
      );
    }
  });

  void it('gives the same symbols whatever other connections draw in between', () => {
    // A connection that keeps losing the keystream window to another draws its short fills
    // from small windows and its long ones from large: both must be the same keystream.
    const total = 300_000;
    const lengths = (turn: number): number => (turn % 2 === 0 ? 3 : 4_321);
    let alone = 0;
    const whole = symbolsOf(DEFAULT_ALPHABET, total, () => lengths(alone++));
    const source = new StreamSource(2024);
    const mine = source.next(CHARS, WHOLE, DEFAULT_ALPHABET);
    const other = source.next(CHARS, WHOLE, DEFAULT_ALPHABET);
    const scratch = Buffer.alloc(70_000);
    const interleaved = Buffer.alloc(total);
    for (let at = 0, turn = 0; at < total; turn++) {
      const end = Math.min(total, at + lengths(turn));
      mine.fill(interleaved, at, end);
      at = end;
      other.fill(scratch, 0, turn % 3 === 0 ? 65_536 : 5);
    }
    assert.ok(interleaved.equals(whole));
  });
});

void describe('SymbolGenerator chunks', () => {
  void it('draws chunk lengths within the range and symbols from the alphabet', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 0xffff_ffff }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 40 }),
        fc.constantFrom('ab', 'x', '!#%&', DEFAULT_ALPHABET),
        (seed, min, extra, alphabet) => {
          const generator = nthStream(seed, 1, { min, max: min + extra }, WHOLE, alphabet);
          for (let i = 0; i < 20; i++) {
            const chunk = generator.nextChunk().toString('latin1');
            assert.ok(chunk.length >= min && chunk.length <= min + extra, `length ${chunk.length} in ${min}-${min + extra}`);
            for (const symbol of chunk) assert.ok(alphabet.includes(symbol), `symbol ${symbol} from ${alphabet}`);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  void it("reaches every length of the original's 1-5 and every symbol of its alphabet", () => {
    const chunks = draw(nthStream(3, 1), 3000).chunks;
    assert.deepEqual([...new Set(chunks.map((c) => c.length))].sort(), [1, 2, 3, 4, 5]);
    assert.equal(new Set(chunks.join('')).size, DEFAULT_ALPHABET.length);
  });

  void it('draws each length about equally often', () => {
    const chunks = draw(nthStream(11, 1), 5000).chunks;
    for (let length = 1; length <= 5; length++) {
      const share = chunks.filter((c) => c.length === length).length / chunks.length;
      assert.ok(share > 0.15 && share < 0.25, `length ${length} drawn ${(share * 100).toFixed(1)}% of the time`);
    }
  });

  void it('gives a fixed length when MIN equals MAX', () => {
    const generator = nthStream(5, 1, { min: 3, max: 3 });
    for (let i = 0; i < 50; i++) assert.equal(generator.nextChunk().length, 3);
  });

  void it('never draws a chunk that could pass for a statistics answer', () => {
    const chunks = draw(nthStream(9, 1), 2000).chunks;
    assert.ok(chunks.every((c) => !c.includes(':') && !c.includes(' ')));
  });
});

void describe('SymbolGenerator waits', () => {
  void it('draws whole seconds for whole-second bounds, with ms = seconds * 1000', () => {
    const waits = draw(nthStream(8, 1), 3000).waits;
    for (const wait of waits) {
      assert.ok(Number.isInteger(wait.seconds), `whole seconds: ${wait.seconds}`);
      assert.ok(wait.seconds >= 1 && wait.seconds <= 5);
      assert.equal(wait.ms, wait.seconds * 1000);
    }
    assert.deepEqual([...new Set(waits.map((w) => w.seconds))].sort(), [1, 2, 3, 4, 5]);
  });

  void it('draws millisecond-resolution waits within fractional bounds', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 0xffff_ffff }),
        // A MIN that is not whole seconds, so that the millisecond path is taken.
        fc.integer({ min: 1, max: 5000 }).filter((ms) => ms % 1000 !== 0),
        fc.integer({ min: 0, max: 5000 }),
        (seed, minMs, spanMs) => {
          const maxMs = minMs + spanMs;
          const generator = nthStream(seed, 1, CHARS, { min: minMs / 1000, max: maxMs / 1000 });
          for (let i = 0; i < 20; i++) {
            const wait = generator.nextWait();
            assert.ok(Number.isInteger(wait.ms), `whole milliseconds: ${wait.ms}`);
            assert.ok(wait.ms >= minMs && wait.ms <= maxMs, `${wait.ms} ms in ${minMs}-${maxMs}`);
            assert.equal(wait.seconds, wait.ms / 1000);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  void it('draws sub-second waits for 0.25-0.75 and can give a non-whole second count', () => {
    const generator = nthStream(4, 1, CHARS, { min: 0.25, max: 0.75 });
    const waits = Array.from({ length: 500 }, () => generator.nextWait());
    assert.ok(waits.every((w) => w.ms >= 250 && w.ms <= 750));
    assert.ok(waits.some((w) => !Number.isInteger(w.seconds)));
    assert.ok(new Set(waits.map((w) => w.ms)).size > 100, 'spread over the milliseconds of the range');
  });

  void it('gives no wait at all for 0-0', () => {
    const generator = nthStream(1, 1, CHARS, { min: 0, max: 0 });
    for (let i = 0; i < 20; i++) assert.deepEqual(generator.nextWait(), { ms: 0, seconds: 0 });
  });
});
