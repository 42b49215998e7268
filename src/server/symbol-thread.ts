/**
 * The helper thread of symbol-lanes.ts: makes the segments queued in the shared memory, oldest
 * first, and sleeps on the memory while none is. It has no messages: the memory is the whole
 * conversation, so neither thread waits on the other's event loop.
 */
import { workerData } from 'node:worker_threads';
import { Keystream } from './keystream.js';
import { SymbolKernel } from './symbol-kernel.js';
import { LaneTable, laneOf, makeSegment, SlotState } from './symbol-lanes.js';

const table = new LaneTable(workerData as SharedArrayBuffer);
const kernel = new SymbolKernel();

for (;;) {
  const seen = table.sequence();
  const slot = table.oldestQueued();
  if (slot === -1) {
    table.waitForWork(seen);
    continue;
  }
  if (!table.move(slot, SlotState.queued, SlotState.working)) continue;
  const { key, nonceHigh, nonceLow, alphabet } = table.lane(laneOf(slot));
  const count = makeSegment(kernel, new Keystream(key), nonceHigh, nonceLow, table.start(slot), alphabet, table.room(slot));
  table.finish(slot, count, true);
}
