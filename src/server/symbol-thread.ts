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

/** Each lane's stream as this thread last read it: read again only when the lane serves another. */
interface LaneStream {
  readonly generation: number;
  readonly keystream: Keystream;
  readonly nonceHigh: number;
  readonly nonceLow: number;
  readonly alphabet: Buffer;
}
const streams: (LaneStream | undefined)[] = [];

function streamOf(lane: number): LaneStream {
  const generation = table.generation(lane);
  let stream = streams[lane];
  if (stream?.generation !== generation) {
    const { key, nonceHigh, nonceLow, alphabet } = table.lane(lane);
    stream = { generation, keystream: new Keystream(key), nonceHigh, nonceLow, alphabet };
    streams[lane] = stream;
  }
  return stream;
}

for (;;) {
  const seen = table.sequence();
  const slot = table.helperNext();
  if (slot === -1) {
    table.waitForWork(seen);
    continue;
  }
  if (!table.move(slot, SlotState.queued, SlotState.working)) continue;
  const { keystream, nonceHigh, nonceLow, alphabet } = streamOf(laneOf(slot));
  const count = makeSegment(kernel, keystream, nonceHigh, nonceLow, table.start(slot), alphabet, table.room(slot));
  table.finish(slot, count, true);
}
