/**
 * Runs waves of hostile connections in a worker thread, so that the bystanders' event loop
 * in the main thread measures the server, not the cost of being hostile.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { Random } from '../../test/support/random.js';
import { HOSTILE_KINDS, runHostile, type HostileKind, type HostileTarget } from './hostile.js';

export interface HostileWave {
  readonly count: number;
  readonly concurrency: number;
}

const { target, seed, kinds } = workerData as { target: HostileTarget; seed: number; kinds: readonly HostileKind[] };
const unknown = kinds.filter((kind) => !HOSTILE_KINDS.includes(kind));
if (unknown.length > 0) throw new Error(`unknown hostile kinds: ${unknown.join(', ')}`);
const random = new Random(seed);
// Being hostile takes CPU the server and the checking clients need: this thread gets it last,
// after the load generator's processes (nice 10; on Linux a priority is a thread's own).
try {
  setPriority(19);
} catch {
  // Not allowed here: the figures are then a little harsher on the server.
}
const port = parentPort;
if (port === null) throw new Error('hostile-worker.js runs as a worker thread');

port.on('message', (wave: HostileWave) => {
  void runWave(wave).then((tried) => port.postMessage({ done: true, tried }));
});

async function runWave(wave: HostileWave): Promise<Record<string, number>> {
  const tried: Record<string, number> = {};
  let started = 0;
  let finished = 0;
  const progress = setInterval(() => port?.postMessage({ done: false, finished, tried }), 500);
  const worker = async (): Promise<void> => {
    while (started < wave.count) {
      started++;
      const kind = random.pick(kinds);
      tried[kind] = (tried[kind] ?? 0) + 1;
      await runHostile(kind, target, random);
      finished++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(wave.concurrency, wave.count) }, worker));
  clearInterval(progress);
  return tried;
}
