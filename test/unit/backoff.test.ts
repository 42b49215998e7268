import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { backoffDelay, type ReconnectPolicy } from '../../src/client/backoff.js';

const POLICY: ReconnectPolicy = { initialMs: 500, maxMs: 30_000, attempts: 0 };

void describe('backoffDelay', () => {
  void it('doubles its step after each failure: half of it fixed, half random', () => {
    assert.equal(backoffDelay(1, POLICY, () => 0), 250);
    assert.equal(backoffDelay(1, POLICY, () => 0.999_999), 500);
    assert.equal(backoffDelay(2, POLICY, () => 0), 500);
    assert.equal(backoffDelay(3, POLICY, () => 0), 1000);
    assert.equal(backoffDelay(4, POLICY, () => 0.5), 3000);
  });

  void it('never waits longer than the cap, however many failures', () => {
    assert.equal(backoffDelay(7, POLICY, () => 0.999_999), 30_000);
    assert.equal(backoffDelay(1_000_000, POLICY, () => 0.999_999), 30_000);
    assert.equal(backoffDelay(1_000_000, POLICY, () => 0), 15_000);
  });

  void it('stays within [step/2, step] for any attempt, bounds and randomness', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 0, max: 100_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, initialMs, extraMs, random) => {
        const policy = { initialMs, maxMs: initialMs + extraMs, attempts: 0 };
        const step = Math.min(policy.maxMs, initialMs * 2 ** (attempt - 1));
        const delay = backoffDelay(attempt, policy, () => random);
        assert.ok(delay >= Math.floor(step / 2) && delay <= Math.ceil(step), `${delay} outside [${step / 2}, ${step}]`);
      }),
      { numRuns: 300 },
    );
  });
});
