/**
 * The helper thread of symbol-lanes.ts: makes the segments queued in the shared memory, in the
 * order LaneTable.helperNext gives, and sleeps on the memory while none is. It has no messages:
 * the memory is the whole conversation, so neither thread waits on the other's event loop.
 */
import { setPriority } from 'node:os';
import { workerData } from 'node:worker_threads';
import { Keystream } from './keystream.js';
import { SymbolKernel } from './symbol-kernel.js';
import { LaneTable, laneOf, makeSegment, SlotState } from './symbol-lanes.js';

/**
 * The helper yields its core to the threads the flood's bytes wait on (this server's own, and
 * on a small machine its reader): what it makes is only ahead of need, and a segment it has not
 * begun the stream makes itself. On Linux a thread's nice value is its own, so this lowers the
 * helper only; elsewhere it would lower the whole process, so it is left alone.
 */
const HELPER_NICE = 10;
if (process.platform === 'linux') {
  try {
    setPriority(0, HELPER_NICE);
  } catch {
    // A system that refuses costs a little speed, nothing else.
  }
}

const table = new LaneTable(workerData as SharedArrayBuffer);
const kernel = new SymbolKernel();

for (;;) {
  const seen = table.sequence();
  const slot = table.helperNext();
  if (slot === -1) {
    table.waitForWork(seen);
    continue;
  }
  if (!table.move(slot, SlotState.queued, SlotState.working)) continue;
  const { key, nonceHigh, nonceLow, alphabet } = table.lane(laneOf(slot));
  const count = makeSegment(kernel, new Keystream(key), nonceHigh, nonceLow, table.start(slot), alphabet, table.room(slot));
  table.finish(slot, count, true);
}
