import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { metricTotal, type Metrics } from '../../test/support/metrics.js';
import { Random } from '../../test/support/random.js';
import { waitFor } from '../../test/support/wait.js';
import { CheckingClient, Tally } from '../lib/checking-client.js';
import { HOSTILE_KINDS } from '../lib/hostile.js';
import type { HostileWave } from '../lib/hostile-worker.js';
import { histogramDelta, ServerProcess, type Exit } from '../lib/server-process.js';
import { DEFAULT_ALPHABET } from '../../src/server/config.js';

const INTERVAL = { min: 0.05, max: 0.2 };
/** A bystander chunk arriving later than its announced wait plus this is a disturbance. */
const DISTURBANCE_MS = 250;
const FRAME_TIMEOUT_S = 1;

export interface FaultsOptions {
  /** Hostile connections in all (in a soak: in each wave, at most 500). */
  readonly hostile: number;
  /** Hostile connections open at once. */
  readonly concurrency: number;
  readonly bystanders: number;
  /** Seconds of waves of hostile connections, sampling heap and handles; 0 for one run of `hostile`. */
  readonly soakSeconds: number;
  readonly seed: number;
  readonly kinds: readonly string[];
  /** Node options for the server process (a profiler, say). */
  readonly serverNodeArgs: readonly string[];
  readonly progress: (line: string) => void;
}

/** A figure before the hostile connections and after they have all gone. */
export interface BackToBaseline {
  readonly baseline: number | undefined;
  readonly after: number | undefined;
  readonly back: boolean;
}

export interface SoakSample {
  readonly seconds: number;
  readonly heapAfterGcMb: number;
  readonly handles: number;
  readonly clients: number;
  readonly rssMb: number;
}

export interface FaultsResult {
  readonly hostileTried: number;
  readonly byKind: Readonly<Record<string, number>>;
  /** 1 if the server died or did not end cleanly on SIGTERM. */
  readonly serverCrashes: number;
  readonly serverExit: Exit;
  readonly bystanders: number;
  /** Bystanders whose connection was lost. */
  readonly bystandersDropped: number;
  /** Bystanders dropped, or sent a chunk more than 250 ms late. */
  readonly bystandersDisturbed: number;
  readonly bystanderLatenessMaxMs: number;
  readonly bystanderLatenessP99Ms: number;
  readonly statisticsAnswersChecked: number;
  readonly statisticsAnswersWrong: number;
  readonly badChunks: number;
  /** Chunk lateness on the server while the hostile connections came, in seconds (histogram bucket bounds). */
  readonly serverLateness: { readonly count: number; readonly p50: number; readonly p99: number; readonly max: number };
  readonly serverProtocolErrors: number;
  readonly serverErrorsByCode: Readonly<Record<string, number>>;
  readonly peakRssMb: number;
  readonly handles: BackToBaseline;
  readonly clients: BackToBaseline;
  readonly openFiles: BackToBaseline;
  readonly soak: readonly SoakSample[];
  readonly problems: readonly string[];
  readonly durationSeconds: number;
}

/**
 * Thousands of hostile connections against a real server while well-behaved bystanders check
 * every chunk and every statistics answer; then whether the server let go of everything.
 */
export async function runFaults(options: FaultsOptions): Promise<FaultsResult> {
  const unknown = options.kinds.filter((kind) => !(HOSTILE_KINDS as readonly string[]).includes(kind));
  if (unknown.length > 0) throw new Error(`unknown hostile kinds ${unknown.join(', ')}: choose from ${HOSTILE_KINDS.join(', ')}`);
  const random = new Random(options.seed);
  const server = await ServerProcess.start({
    mode: 'quiet',
    nodeArgs: ['--expose-gc', ...options.serverNodeArgs],
    args: [
      '--interval',
      `${INTERVAL.min}-${INTERVAL.max}`,
      '--frame-timeout',
      String(FRAME_TIMEOUT_S),
      '--slow-client-timeout',
      '3',
      '--max-clients',
      String(options.bystanders + options.concurrency + 50),
    ],
  });
  const target = { host: '127.0.0.1', port: server.port };
  const timers: NodeJS.Timeout[] = [];
  let hostile: Worker | undefined;
  const tally = new Tally();
  const bystanders: CheckingClient[] = [];
  try {
    let peakRss = server.rssBytes();
    timers.push(
      setInterval(() => {
        if (server.child.exitCode === null) peakRss = Math.max(peakRss, server.rssBytes());
      }, 200),
    );

    // Bystanders connect first; their numbers are the baseline the server must come back to.
    for (let i = 0; i < options.bystanders; i++) bystanders.push(new CheckingClient(target, { alphabet: DEFAULT_ALPHABET, minChars: 1, maxChars: 5 }, tally));
    await waitFor(() => tally.connected === options.bystanders, { timeoutMs: 10_000, what: 'the bystanders to connect' });
    const asker = setInterval(() => random.pick(bystanders).requestStatistics(), 5);
    timers.push(asker);
    await delay(1000);
    const settle = (): Promise<Settled> => settled(server, options.bystanders);
    const baseline = await settle();

    const tried = new Map<string, number>();
    const worker = new Worker(new URL('../lib/hostile-worker.js', import.meta.url), {
      workerData: { target: { ...target, maxLifeMs: (FRAME_TIMEOUT_S + 3) * 1000 }, seed: options.seed + 1, kinds: options.kinds },
    });
    hostile = worker;
    const startedAt = performance.now();
    const soak: SoakSample[] = [];
    let hostileDone = 0;
    const wave = async (count: number): Promise<void> => {
      const base = hostileDone;
      const done = await hostileWave(worker, { count, concurrency: options.concurrency }, (finished) => (hostileDone = base + finished));
      for (const [kind, n] of Object.entries(done)) tried.set(kind, (tried.get(kind) ?? 0) + n);
      hostileDone = base + count;
    };
    timers.push(
      setInterval(() => {
        options.progress(`faults: ${hostileDone} hostile connections done, ${tally.counts.answersChecked} answers checked, server RSS ${mb(server.rssBytes())}`);
      }, 500),
    );

    if (options.soakSeconds > 0) {
      const sampleEvery = Math.max(5, Math.round(options.soakSeconds / 20));
      let nextSample = 0;
      while ((performance.now() - startedAt) / 1000 < options.soakSeconds && server.child.exitCode === null) {
        await wave(Math.min(options.hostile, 500));
        const seconds = (performance.now() - startedAt) / 1000;
        if (seconds < nextSample) continue;
        nextSample = seconds + sampleEvery;
        const m = await server.metrics();
        soak.push({
          seconds: Math.round(seconds),
          heapAfterGcMb: round1((m.get('multi_socket_heap_after_gc_bytes') ?? 0) / 1048576),
          handles: m.get('multi_socket_active_resources') ?? 0,
          clients: m.get('multi_socket_clients') ?? 0,
          rssMb: round1(server.rssBytes() / 1048576),
        });
      }
    } else {
      await wave(options.hostile);
    }
    await worker.terminate();

    // Every hostile connection is closed on our side; the server must have let go of all of them.
    const after = await settle();
    clearInterval(asker);
    await delay(300);
    const crashed = server.child.exitCode !== null;
    await Promise.all(bystanders.map((client) => client.close()));
    const exit = await server.stop('SIGTERM');

    const resources = (m: Metrics): number | undefined => m.get('multi_socket_active_resources');
    const back = (before: number | undefined, later: number | undefined): BackToBaseline => ({ baseline: before, after: later, back: before !== undefined && before === later });
    return {
      hostileTried: hostileDone,
      byKind: Object.fromEntries(tried),
      serverCrashes: crashed || exit.code !== 0 ? 1 : 0,
      serverExit: exit,
      bystanders: options.bystanders,
      bystandersDropped: bystanders.filter((client) => client.dropped).length,
      bystandersDisturbed: bystanders.filter((client) => client.dropped || client.worstLatenessUs > DISTURBANCE_MS * 1000).length,
      bystanderLatenessMaxMs: round1(tally.lateness.max / 1000),
      bystanderLatenessP99Ms: round1(tally.lateness.percentile(0.99) / 1000),
      statisticsAnswersChecked: tally.counts.answersChecked,
      statisticsAnswersWrong: tally.counts.answersWrong,
      badChunks: tally.counts.badChunks,
      serverLateness: histogramDelta(baseline.metrics, after.metrics, 'multi_socket_chunk_lateness_seconds'),
      serverProtocolErrors: metricTotal(after.metrics, 'multi_socket_protocol_errors_total'),
      serverErrorsByCode: Object.fromEntries(
        [...after.metrics].filter(([key]) => key.startsWith('multi_socket_protocol_errors_total')).map(([key, value]) => [key.replace(/.*code="([^"]+)".*/, '$1'), value]),
      ),
      peakRssMb: round1(peakRss / 1048576),
      handles: back(resources(baseline.metrics), resources(after.metrics)),
      clients: back(options.bystanders, after.metrics.get('multi_socket_clients')),
      openFiles: back(baseline.openFiles, after.openFiles),
      soak,
      problems: tally.problems,
      durationSeconds: round1((performance.now() - startedAt) / 1000),
    };
  } finally {
    for (const timer of timers) clearInterval(timer);
    await hostile?.terminate();
    for (const client of bystanders) void client.close();
    await server.stop('SIGKILL');
  }
}

/** What everything must come back to once the hostile connections are gone. */
export function faultsFailures(result: FaultsResult): string[] {
  const failures: string[] = [];
  if (result.serverCrashes > 0) failures.push(`faults: the server crashed or did not stop cleanly (${JSON.stringify(result.serverExit)})`);
  if (result.bystandersDisturbed > 0) failures.push(`faults: ${result.bystandersDisturbed} of ${result.bystanders} bystanders disturbed`);
  if (result.statisticsAnswersWrong > 0 || result.badChunks > 0) failures.push(`faults: ${result.statisticsAnswersWrong} wrong answers, ${result.badChunks} bad chunks`);
  for (const [name, figure] of [['handles', result.handles], ['clients', result.clients], ['open files', result.openFiles]] as const) {
    if (!figure.back) failures.push(`faults: ${name} not back to baseline (${String(figure.baseline)} -> ${String(figure.after)})`);
  }
  return failures;
}

interface Settled {
  readonly metrics: Metrics;
  readonly openFiles: number;
}

/**
 * The server's metrics and open files once it has let go of every hostile connection (or after
 * 15 s): the open files as the lowest of a few looks, once the last scrape's own connection has gone.
 */
async function settled(server: ServerProcess, bystanders: number): Promise<Settled> {
  const deadline = Date.now() + 15_000;
  while (((await server.metrics()).get('multi_socket_clients') ?? 0) > bystanders && Date.now() < deadline) await delay(200);
  await delay(300);
  const metrics = await server.metrics();
  let openFiles = Number.POSITIVE_INFINITY;
  for (let look = 0; look < 5; look++) {
    await delay(100);
    openFiles = Math.min(openFiles, server.openFiles());
  }
  return { metrics, openFiles };
}

/** One wave of hostile connections in the worker; resolves with the kinds tried once every one has closed. */
function hostileWave(worker: Worker, wave: HostileWave, onProgress: (finished: number) => void): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { done: boolean; finished?: number; tried?: Record<string, number> }): void => {
      if (!message.done) {
        onProgress(message.finished ?? 0);
        return;
      }
      worker.off('message', onMessage).off('error', reject);
      resolve(message.tried ?? {});
    };
    worker.on('message', onMessage).once('error', reject);
    worker.postMessage(wave);
  });
}

function mb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
