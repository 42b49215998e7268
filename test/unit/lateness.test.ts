import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { LATENESS_BOUNDS_MS, LatenessHistogram, LatenessWindow } from '../../src/monitor/lateness.js';

void describe('LatenessHistogram', () => {
  void it('counts a value in the first bucket whose bound it does not exceed, as Prometheus does (le)', () => {
    const histogram = new LatenessHistogram();
    histogram.observe(1);
    histogram.observe(1.0001);
    histogram.observe(9999);
    const one = LATENESS_BOUNDS_MS.indexOf(1);
    assert.equal(histogram.counts[one], 1);
    assert.equal(histogram.counts[one + 1], 1);
    assert.equal(histogram.counts.at(-1), 1, 'above every bound: the last bucket');
    assert.equal(histogram.count, 3);
    assert.equal(histogram.max, 9999);
  });

  void it('reads percentiles by linear interpolation within the bucket, never above the maximum', () => {
    const histogram = new LatenessHistogram();
    // 100 chunks between 1 and 1.5 ms: the 50th lands half-way through that bucket.
    for (let i = 0; i < 100; i++) histogram.observe(1.2);
    assert.equal(histogram.quantile(0.5), 1.2, 'capped by the true maximum');
    histogram.observe(1.5);
    const p50 = histogram.quantile(0.5);
    assert.ok(p50 > 1 && p50 <= 1.5, `p50 ${p50}`);
    assert.equal(histogram.summary().max, 1.5);
  });

  void it('says 0 for no chunks at all', () => {
    assert.deepEqual(new LatenessHistogram().summary(), { p50: 0, p99: 0, max: 0, count: 0 });
  });

  void it('p50 <= p99 <= max, and the true p99 is within the bucket the estimate is in', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 6000, noNaN: true }), { minLength: 1, maxLength: 300 }), (values) => {
        const histogram = new LatenessHistogram();
        for (const value of values) histogram.observe(value);
        const { p50, p99, max } = histogram.summary();
        assert.ok(p50 <= p99 && p99 <= max, `${p50} ${p99} ${max}`);
        assert.equal(max, Math.max(...values));
        const sorted = [...values].sort((a, b) => a - b);
        const exact = sorted[Math.ceil(0.99 * sorted.length) - 1] as number;
        const bucketOf = (ms: number): number => LATENESS_BOUNDS_MS.findIndex((bound) => ms <= bound);
        assert.equal(bucketOf(p99), bucketOf(exact), `estimate ${p99}, exact ${exact}`);
      }),
    );
  });

  void it('take() hands over the counts and starts again from zero', () => {
    const histogram = new LatenessHistogram();
    histogram.observe(3);
    const taken = histogram.take();
    assert.equal(taken.counts.reduce((a, b) => a + b, 0), 1);
    assert.equal(taken.max, 3);
    assert.equal(histogram.count, 0);
    assert.equal(histogram.max, 0);
  });
});

void describe('LatenessWindow', () => {
  void it('sums the last N seconds and forgets older ones', () => {
    const window = new LatenessWindow(3);
    const second = (ms: number, times: number): ReturnType<LatenessHistogram['take']> => {
      const histogram = new LatenessHistogram();
      for (let i = 0; i < times; i++) histogram.observe(ms);
      return histogram.take();
    };
    window.push(second(400, 10));
    window.push(second(1, 10));
    window.push(second(1, 10));
    assert.deepEqual({ count: window.summary().count, max: window.summary().max }, { count: 30, max: 400 });
    window.push(second(1, 10));
    assert.deepEqual({ count: window.summary().count, max: window.summary().max }, { count: 30, max: 1 }, 'the slow second left the window');
  });
});
