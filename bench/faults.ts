/**
 * The fault benchmark: thousands of hostile connections against a real server while
 * well-behaved bystanders check every chunk and every statistics answer.
 *
 *   npm run bench:faults                       # default: 3000 hostile connections
 *   npm run bench:faults -- --hostile 10000 --concurrency 300
 *   npm run bench:faults -- --soak 600         # 10 minutes, heap after GC and handles over time
 *
 * It prints how many hostile inputs were tried, server crashes, disturbed bystanders,
 * statistics answers checked and wrong, peak RSS, and whether handles and sockets returned to
 * their baseline. It exits 1 if any of those is off.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { CheckingClient, Tally } from './lib/checking-client.js';
import { Worker } from 'node:worker_threads';
import { HOSTILE_KINDS } from './lib/hostile.js';
import { histogramDelta, metricTotal, ServerProcess, type Metrics } from './lib/server-process.js';
import { RESULTS_DIR, resultPath } from './lib/report.js';

const { values } = parseArgs({
  options: {
    hostile: { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '200' },
    bystanders: { type: 'string', default: '20' },
    soak: { type: 'string', default: '0' },
    seed: { type: 'string', default: '1' },
    profile: { type: 'boolean', default: false },
    kinds: { type: 'string', default: HOSTILE_KINDS.join(',') },
  },
});
const HOSTILE = Number(values.hostile);
const CONCURRENCY = Number(values.concurrency);
const BYSTANDERS = Number(values.bystanders);
const SOAK_SECONDS = Number(values.soak);
const rng = xoroshiro128plus(Number(values.seed));

const INTERVAL = { min: 0.05, max: 0.2 };
/** A bystander chunk arriving later than its announced wait plus this is a disturbance. */
const DISTURBANCE_MS = 250;
const FRAME_TIMEOUT_S = 1;

const server = await ServerProcess.start({
  mode: 'quiet',
  nodeArgs: ['--expose-gc', ...(values.profile ? ['--cpu-prof', '--cpu-prof-dir', RESULTS_DIR] : [])],
  args: ['--interval', `${INTERVAL.min}-${INTERVAL.max}`, '--frame-timeout', String(FRAME_TIMEOUT_S), '--slow-client-timeout', '3', '--max-clients', String(BYSTANDERS + CONCURRENCY + 50)],
});
const target = { host: '127.0.0.1', port: server.port };
const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

let peakRss = server.rssBytes();
const rssSampler = setInterval(() => {
  if (server.child.exitCode === null) peakRss = Math.max(peakRss, server.rssBytes());
}, 200);

// Bystanders connect first; their numbers are the baseline the server must come back to.
const tally = new Tally();
const bystanders = Array.from({ length: BYSTANDERS }, () => new CheckingClient(target, { alphabet, minChars: 1, maxChars: 5 }, tally));
await waitFor(() => tally.connected === BYSTANDERS, 10_000, 'bystanders to connect');
const asker = setInterval(() => {
  const client = bystanders[uniformInt(rng, 0, BYSTANDERS - 1)];
  client?.requestStatistics();
}, 5);
await delay(1000);
const baseline = await settledMetrics();
const baselineFiles = await settledOpenFiles();

const tried = new Map<string, number>();
const hostile = new Worker(new URL('./lib/hostile-worker.js', import.meta.url), {
  workerData: { target: { ...target, maxLifeMs: (FRAME_TIMEOUT_S + 3) * 1000 }, seed: Number(values.seed) + 1, kinds: values.kinds.split(',') },
});
const startedAt = performance.now();
const soakSamples: { seconds: number; heapAfterGcMb: number; handles: number; clients: number; rssMb: number }[] = [];
let hostileDone = 0;

let waveBase = 0;
/** One wave of hostile connections in the worker; resolves when every one has closed. */
function hostileWave(count: number): Promise<void> {
  return new Promise((resolve) => {
    const onMessage = (message: { done: boolean; finished?: number; tried?: Record<string, number> }): void => {
      if (!message.done) {
        hostileDone = waveBase + (message.finished ?? 0);
        return;
      }
      hostile.off('message', onMessage);
      for (const [kind, n] of Object.entries(message.tried ?? {})) tried.set(kind, (tried.get(kind) ?? 0) + n);
      waveBase += count;
      hostileDone = waveBase;
      resolve();
    };
    hostile.on('message', onMessage);
    hostile.postMessage({ count, concurrency: CONCURRENCY });
  });
}

const progress = setInterval(() => {
  process.stderr.write(`\r${hostileDone} hostile connections done, ${tally.counts.answersChecked} answers checked, server RSS ${mb(server.rssBytes())}   `);
}, 500);

if (SOAK_SECONDS > 0) {
  const sampleEvery = Math.max(5, Math.round(SOAK_SECONDS / 20));
  let nextSample = 0;
  while ((performance.now() - startedAt) / 1000 < SOAK_SECONDS && server.child.exitCode === null) {
    await hostileWave(Math.min(HOSTILE, 500));
    const seconds = (performance.now() - startedAt) / 1000;
    if (seconds >= nextSample) {
      nextSample = seconds + sampleEvery;
      const m = await server.metrics();
      soakSamples.push({
        seconds: Math.round(seconds),
        heapAfterGcMb: round1((m.get('multi_socket_heap_after_gc_bytes') ?? 0) / 1048576),
        handles: m.get('multi_socket_active_resources') ?? 0,
        clients: m.get('multi_socket_clients') ?? 0,
        rssMb: round1(server.rssBytes() / 1048576),
      });
    }
  }
} else {
  await hostileWave(HOSTILE);
}
clearInterval(progress);
process.stderr.write('\n');
await hostile.terminate();

// Every hostile connection is closed on our side; the server must have let go of all of them.
const after = await settledMetrics();
const afterFiles = await settledOpenFiles();
clearInterval(asker);
await delay(300);
const crashed = server.child.exitCode !== null;
clearInterval(rssSampler);
await Promise.all(bystanders.map((client) => client.close()));
const exit = await server.stop('SIGTERM');

const disturbed = bystanders.filter((client) => client.dropped || client.worstLatenessUs > DISTURBANCE_MS * 1000).length;
const handlesBack = (after.get('multi_socket_active_resources') ?? -1) === (baseline.get('multi_socket_active_resources') ?? -2);
const clientsBack = (after.get('multi_socket_clients') ?? -1) === BYSTANDERS;
const filesBack = afterFiles === baselineFiles;
const serverErrors = metricTotal(after, 'multi_socket_protocol_errors_total');
const results = {
  hostileTried: hostileDone,
  byKind: Object.fromEntries(tried),
  serverCrashes: crashed || exit.code !== 0 ? 1 : 0,
  serverExit: exit,
  bystanders: BYSTANDERS,
  bystandersDisturbed: disturbed,
  bystanderLatenessMaxMs: round1(tally.lateness.max / 1000),
  bystanderLatenessP99Ms: round1(tally.lateness.percentile(0.99) / 1000),
  statisticsAnswersChecked: tally.counts.answersChecked,
  statisticsAnswersWrong: tally.counts.answersWrong,
  badChunks: tally.counts.badChunks,
  serverLateness: histogramDelta(baseline, after, 'multi_socket_chunk_lateness_seconds'),
  serverProtocolErrors: serverErrors,
  serverErrorsByCode: Object.fromEntries([...after].filter(([key]) => key.startsWith('multi_socket_protocol_errors_total')).map(([key, value]) => [key.replace(/.*code="([^"]+)".*/, '$1'), value])),
  peakRssMb: round1(peakRss / 1048576),
  handles: { baseline: baseline.get('multi_socket_active_resources'), after: after.get('multi_socket_active_resources'), back: handlesBack },
  clients: { baseline: BYSTANDERS, after: after.get('multi_socket_clients'), back: clientsBack },
  openFiles: { baseline: baselineFiles, after: afterFiles, back: filesBack },
  soak: soakSamples,
  problems: tally.problems,
  durationSeconds: round1((performance.now() - startedAt) / 1000),
};

const rows: [string, string][] = [
  ['hostile connections tried', `${results.hostileTried} (${HOSTILE_KINDS.length} kinds)`],
  ['server crashes', String(results.serverCrashes)],
  ['bystanders disturbed', `${results.bystandersDisturbed} of ${BYSTANDERS} (worst lateness ${results.bystanderLatenessMaxMs} ms, p99 ${results.bystanderLatenessP99Ms} ms)`],
  ['server-side lateness (hostile phase)', `p50 ${ms(results.serverLateness.p50)}, p99 ${ms(results.serverLateness.p99)}, max <= ${ms(results.serverLateness.max)}`],
  ['statistics answers checked', String(results.statisticsAnswersChecked)],
  ['statistics answers wrong', String(results.statisticsAnswersWrong)],
  ['protocol errors reported by the server', String(serverErrors)],
  ['peak server RSS', `${results.peakRssMb} MB`],
  ['handles back to baseline', `${handlesBack ? 'yes' : 'NO'} (${String(results.handles.baseline)} -> ${String(results.handles.after)})`],
  ['clients back to baseline', `${clientsBack ? 'yes' : 'NO'} (${BYSTANDERS} -> ${String(results.clients.after)})`],
  ['open files back to baseline', `${filesBack ? 'yes' : 'NO'} (${baselineFiles} -> ${afterFiles})`],
];
for (const [name, value] of rows) console.log(`${name.padEnd(40)} ${value}`);
if (soakSamples.length > 0) {
  console.log('\n  seconds  heap after GC  handles  clients  RSS');
  for (const s of soakSamples) console.log(`  ${String(s.seconds).padStart(7)}  ${`${s.heapAfterGcMb} MB`.padStart(13)}  ${String(s.handles).padStart(7)}  ${String(s.clients).padStart(7)}  ${s.rssMb} MB`);
}
const file = resultPath(SOAK_SECONDS > 0 ? 'soak' : 'faults');
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nfull results: ${file}`);
const ok = results.serverCrashes === 0 && disturbed === 0 && tally.counts.answersWrong === 0 && tally.counts.badChunks === 0 && handlesBack && clientsBack && filesBack;
if (!ok && tally.problems.length > 0) console.log(`problems seen:\n  ${tally.problems.join('\n  ')}`);
process.exitCode = ok ? 0 : 1;

/** Metrics once the server has let go of every hostile connection (or after 15 s). */
async function settledMetrics(): Promise<Metrics> {
  const deadline = Date.now() + 15_000;
  let metrics = await server.metrics();
  while ((metrics.get('multi_socket_clients') ?? 0) > BYSTANDERS && Date.now() < deadline) {
    await delay(200);
    metrics = await server.metrics();
  }
  await delay(300);
  return server.metrics();
}

/** Open files, once the last scrape's own connection has gone: the lowest of a few looks. */
async function settledOpenFiles(): Promise<number> {
  let lowest = Number.POSITIVE_INFINITY;
  for (let look = 0; look < 5; look++) {
    await delay(100);
    lowest = Math.min(lowest, server.openFiles());
  }
  return lowest;
}

async function waitFor(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function mb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

function ms(seconds: number): string {
  return `${Math.round(seconds * 10000) / 10} ms`;
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
