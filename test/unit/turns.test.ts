import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { TurnQueue, type TurnTaker } from '../../src/server/turns.js';

void describe('TurnQueue', () => {
  void it('runs the urgent work after every share of a turn, so that nothing due waits for the whole turn', async () => {
    const calls: string[] = [];
    const turns = new TurnQueue(() => calls.push('urgent'));
    const taker = (name: string): TurnTaker => ({ queuedForTurn: false, takeTurn: () => calls.push(name) });
    for (const name of ['a', 'b', 'c']) turns.add(taker(name));
    await nextTurn();
    assert.deepEqual(calls, ['a', 'urgent', 'b', 'urgent', 'c', 'urgent']);
  });
});
