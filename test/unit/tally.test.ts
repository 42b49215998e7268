import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Tally } from '../../bench/lib/checking-client.js';

/** A tally as a crowd of clients in one process leaves it. */
function busy(scale: number): Tally {
  const tally = new Tally();
  tally.connected = 3 * scale;
  let n = 0;
  for (const name of Object.keys(tally.counts) as (keyof Tally['counts'])[]) tally.counts[name] = scale * ++n;
  tally.lateness.record(100 * scale);
  tally.roundTrip.record(50 * scale);
  tally.note(`problem ${scale}`);
  return tally;
}

void describe('Tally', () => {
  void it('starts with every count at zero', () => {
    const tally = new Tally();
    assert.equal(tally.connected, 0);
    assert.ok(Object.keys(tally.counts).length > 0);
    for (const [name, count] of Object.entries(tally.counts)) assert.equal(count, 0, name);
  });

  void it('adds up what other processes report, count by count', () => {
    const sum = new Tally();
    sum.add(busy(1).toJSON());
    sum.add(busy(10).toJSON());
    const one = busy(1).counts;
    assert.equal(sum.connected, 33);
    for (const [name, count] of Object.entries(one)) assert.equal(sum.counts[name as keyof typeof one], count * 11, name);
    assert.equal(sum.lateness.count, 2);
    assert.equal(sum.roundTrip.max, 500);
    assert.deepEqual(sum.problems, ['problem 1', 'problem 10']);
  });

  void it('reports a copy: counting on does not change what was sent', () => {
    const tally = busy(1);
    const sent = tally.toJSON();
    tally.counts.chunks += 100;
    assert.equal(sent.counts.chunks, busy(1).counts.chunks);
  });

  void it('resets the counts but not the connections still open', () => {
    const tally = busy(2);
    tally.resetCounts();
    assert.equal(tally.connected, 6);
    for (const [name, count] of Object.entries(tally.counts)) assert.equal(count, 0, name);
    assert.equal(tally.lateness.count, 0);
    assert.equal(tally.roundTrip.count, 0);
    assert.deepEqual(tally.problems, []);
  });
});
