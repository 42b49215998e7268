/**
 * Runs waves of hostile connections in a worker thread, so that the bystanders' event loop
 * in the main thread measures the server, not the cost of being hostile.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { HOSTILE_KINDS, runHostile, type HostileKind, type HostileTarget } from './hostile.js';

export interface HostileWave {
  readonly count: number;
  readonly concurrency: number;
}

const { target, seed, kinds } = workerData as { target: HostileTarget; seed: number; kinds: readonly HostileKind[] };
const unknown = kinds.filter((kind) => !HOSTILE_KINDS.includes(kind));
if (unknown.length > 0) throw new Error(`unknown hostile kinds: ${unknown.join(', ')}`);
const rng = xoroshiro128plus(seed);
const port = parentPort;
if (port === null) throw new Error('hostile-worker.js runs as a worker thread');

port.on('message', (wave: HostileWave) => {
  void runWave(wave).then((tried) => port.postMessage({ done: true, tried }));
});

async function runWave(wave: HostileWave): Promise<Record<string, number>> {
  const tried: Record<string, number> = {};
  let started = 0;
  let finished = 0;
  const progress = setInterval(() => port?.postMessage({ done: false, finished }), 500);
  const worker = async (): Promise<void> => {
    while (started < wave.count) {
      started++;
      const kind = kinds[uniformInt(rng, 0, kinds.length - 1)] as HostileKind;
      tried[kind] = (tried[kind] ?? 0) + 1;
      await runHostile(kind, target, rng);
      finished++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(wave.concurrency, wave.count) }, worker));
  clearInterval(progress);
  return tried;
}
