import { fork, type ChildProcess } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { metricTotal, type Metrics } from '../../test/support/metrics.js';
import { waitFor } from '../../test/support/wait.js';
import { Tally } from '../lib/checking-client.js';
import type { HostileKind } from '../lib/hostile.js';
import type { HandshakePlan, HandshakeReport } from '../lib/handshake-worker.js';
import type { HostileWave } from '../lib/hostile-worker.js';
import { compareDashboards, type DashboardComparison } from '../lib/dashboards.js';
import type { LoadPlan, WorkerMessage, WorkerReport } from '../lib/load-worker.js';
import { BARE_SERVER_BIN, BARE_WS_SERVER_BIN, histogramDelta, ServerProcess } from '../lib/server-process.js';
import { DEFAULT_ALPHABET } from '../../src/server/config.js';

const WORKER = fileURLToPath(new URL('../lib/load-worker.js', import.meta.url));
const HANDSHAKE_WORKER = fileURLToPath(new URL('../lib/handshake-worker.js', import.meta.url));
/** Sockets one generator process holds at most: under `ulimit -n` 20,000 with room to spare. */
const CLIENTS_PER_PROCESS = Number(process.env.BENCH_CLIENTS_PER_PROCESS ?? 15_000);

export interface ScaleOptions {
  readonly clients: number;
  readonly holdSeconds: number;
  readonly rampPerSecond: number;
  readonly statisticsRate: number;
  /** Server processes (`--workers`); 1 runs the plain server. */
  readonly serverWorkers: number;
  readonly serverMode: string;
  /** Node options for the server process (a profiler, say). */
  readonly serverNodeArgs: readonly string[];
  /** An external server to load instead of starting ours (then no server-side figures). */
  readonly target: { host: string; port: number } | undefined;
  /** Load the bare yardstick server instead of ours (bench/lib/bare-server.ts, or bare-ws-server.ts over WebSocket). */
  readonly bare?: boolean;
  /**
   * With N, a second hold as long as the first follows it, in which N clients that never read
   * and N that flood the server with requests come and go beside the checking clients.
   */
  readonly intruders?: number;
  /** `ws`: the clients are WebSocket clients of the web port's `/ws` (default: TCP). */
  readonly transport?: 'tcp' | 'ws';
  /** Dashboards to open on the server's monitor, in every other window of the hold (see bench/lib/dashboards.ts). */
  readonly dashboards?: number;
  /** TLS: the server's certificate and key files, and the CA the clients trust (PEM). */
  readonly tls?: { readonly cert: string; readonly key: string; readonly ca: string };
  /** With N, before the ramp: connections opened and closed as fast as the server takes them, for N seconds. */
  readonly handshakeSeconds?: number;
  readonly progress: (line: string) => void;
}

/** Connections set up as fast as the server takes them (for TLS, full handshakes), on an idle server. */
export interface HandshakeFigures {
  readonly perSecond: number;
  readonly failed: number;
  /** The server's CPU time per connection set up (and closed), in milliseconds. */
  readonly serverCpuMsPerHandshake: number | undefined;
}

/** The checking clients' figures in the second hold, beside the intruders. */
export interface IntrudedHold {
  readonly intruders: number;
  readonly seconds: number;
  /** Intruding connections opened, by kind. */
  readonly intrudersTried: Readonly<Record<string, number>>;
  readonly chunksPerSecond: number;
  readonly serverLatenessMs: { p50: number; p99: number; max: number } | undefined;
  readonly clientLatenessMs: { p50: number; p99: number; max: number };
  readonly roundTripMs: { p50: number; p99: number; max: number; count: number };
  readonly serverCpuPercent: number | undefined;
  /** GC pauses over the same window, by kind. */
  readonly gc: Readonly<Record<string, { count: number; totalMs: number; maxMs: number }>> | undefined;
  readonly answersChecked: number;
  readonly answersWrong: number;
}

export interface RampSample {
  readonly seconds: number;
  readonly clients: number;
  readonly latenessP50Ms: number;
  readonly latenessP99Ms: number;
  readonly rssMb: number;
}

export interface ScaleResult {
  readonly transport: 'tcp' | 'ws';
  readonly tls: boolean;
  readonly handshakes?: HandshakeFigures;
  readonly clientsWanted: number;
  readonly clientsHeld: number;
  readonly holdSeconds: number;
  readonly generatorProcesses: number;
  readonly serverWorkers: number;
  readonly serverMode: string;
  readonly chunksPerSecond: number;
  readonly serverLatenessMs: { p50: number; p99: number; max: number } | undefined;
  /** The exact mean, from the histogram's sum and count. */
  readonly serverLatenessMeanMs: number | undefined;
  /** With `dashboards`: the hold's windows without them against those with them open. */
  readonly dashboards: DashboardComparison | undefined;
  readonly clientLatenessMs: { p50: number; p99: number; max: number };
  readonly roundTripMs: { p50: number; p99: number; max: number; count: number };
  readonly serverCpuPercent: number | undefined;
  readonly serverCpuUsPerChunk: number | undefined;
  /** Share of the server's CPU time spent in the kernel (system calls, the loopback network). */
  readonly serverCpuSystemShare: number | undefined;
  readonly serverRssMb: number | undefined;
  readonly serverIdleRssMb: number | undefined;
  readonly rssPerClientKb: number | undefined;
  readonly serverLogLines: number | undefined;
  /** The server's garbage collections during the hold, by kind: how many, their total, the longest (a bucket bound). */
  readonly gc: Readonly<Record<string, { count: number; totalMs: number; maxMs: number }>> | undefined;
  readonly answersChecked: number;
  readonly answersWrong: number;
  readonly badChunks: number;
  readonly dropped: number;
  readonly connectFailures: number;
  readonly problems: readonly string[];
  readonly ramp: readonly RampSample[];
  readonly intruded?: IntrudedHold;
}

/**
 * Ramps to N checking clients, holds them for T seconds while 1% of them ask for statistics
 * each second, and measures the server from outside: lateness from its own histogram (the
 * difference between two scrapes), CPU from /proc, memory above its idle baseline.
 */
export async function runScale(options: ScaleOptions): Promise<ScaleResult> {
  const transport = options.transport ?? 'tcp';
  const tlsArgs = options.tls === undefined ? [] : ['--tls-cert', options.tls.cert, '--tls-key', options.tls.key];
  const server =
    options.target === undefined
      ? options.bare === true
        ? await ServerProcess.start({ bin: transport === 'ws' ? BARE_WS_SERVER_BIN : BARE_SERVER_BIN, metrics: false, args: tlsArgs })
        : await ServerProcess.start({
            mode: options.serverMode,
            nodeArgs: options.serverNodeArgs,
            web: transport === 'ws',
            args: ['--max-clients', String(options.clients + 1000), ...(options.serverWorkers > 1 ? ['--workers', String(options.serverWorkers)] : []), ...tlsArgs],
          })
      : undefined;
  const target = options.target ?? { host: '127.0.0.1', port: server?.webPort ?? server?.port ?? 0 };
  const clientTls = options.tls === undefined ? undefined : { ca: options.tls.ca };
  await delay(1000);
  const idleRss = server?.rssBytes();
  const handshakes = options.handshakeSeconds === undefined ? undefined : await measureHandshakes(target, clientTls, options.handshakeSeconds, server, options.progress);

  const processes = Math.max(1, Math.ceil(options.clients / CLIENTS_PER_PROCESS));
  const workers: ChildProcess[] = [];
  const connected = new Array<number>(processes).fill(0);
  const ramp = new Tally();
  const hold = new Tally();
  const intruded = new Tally();
  const resets = new Array<number>(processes).fill(0);
  for (let i = 0; i < processes; i++) {
    const share = Math.floor(options.clients / processes) + (i < options.clients % processes ? 1 : 0);
    const plan: LoadPlan = {
      host: target.host,
      port: target.port,
      // Each process its own loopback source address: about 28,000 ports each, enough for its share.
      sources: [`127.0.0.${2 + i}`],
      clients: share,
      rampPerSecond: options.rampPerSecond / processes,
      // The bare yardstick reads no requests.
      statisticsRate: options.bare === true ? 0 : options.statisticsRate,
      rules: { alphabet: DEFAULT_ALPHABET, minChars: 1, maxChars: 5 },
      transport,
      ...(clientTls === undefined ? {} : { tls: clientTls }),
    };
    const worker = fork(WORKER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    worker.on('message', (report: WorkerReport) => {
      connected[i] = report.tally.connected;
      if (report.reason === 'reset') resets[i] = (resets[i] ?? 0) + 1;
      [ramp, hold, intruded][report.window]?.add(report.tally);
    });
    worker.send({ type: 'start', plan } satisfies WorkerMessage);
    workers.push(worker);
  }
  const total = (): number => connected.reduce((a, b) => a + b, 0);

  // Ramp: sample the server once a second for the chart.
  const samples: RampSample[] = [];
  const started = performance.now();
  let previous: Metrics | undefined = await metricsOf(server);
  const rampDeadline = started + ((options.clients / options.rampPerSecond) * 2 + 30) * 1000;
  while (total() < options.clients && performance.now() < rampDeadline) {
    await delay(1000);
    const metrics = await metricsOf(server);
    const late = metrics === undefined ? undefined : histogramDelta(previous, metrics, 'multi_socket_chunk_lateness_seconds');
    previous = metrics;
    const sample: RampSample = {
      seconds: Math.round((performance.now() - started) / 1000),
      clients: total(),
      latenessP50Ms: (late?.p50 ?? 0) * 1000,
      latenessP99Ms: (late?.p99 ?? 0) * 1000,
      rssMb: (server?.rssBytes() ?? 0) / 1048576,
    };
    samples.push(sample);
    options.progress(`ramp: ${sample.clients}/${options.clients} clients, server lateness p99 ${fmt(sample.latenessP99Ms)} ms, RSS ${fmt(sample.rssMb)} MB`);
  }

  // Hold: one measuring window, bounded by resets on both sides.
  for (const worker of workers) worker.send({ type: 'reset' } satisfies WorkerMessage);
  const before = await metricsOf(server);
  const cpuBefore = server?.cpuSeconds();
  const splitBefore = server?.cpuSplit();
  const holdStart = performance.now();
  const base = server?.metricsUrl?.replace(/\/metrics$/, '');
  const comparing = server !== undefined && base !== undefined && (options.dashboards ?? 0) > 0 ? compareDashboards(server, base, options.dashboards ?? 0, options.holdSeconds) : undefined;
  while (performance.now() - holdStart < options.holdSeconds * 1000) {
    await delay(Math.max(0, Math.min(5000, options.holdSeconds * 1000 - (performance.now() - holdStart))));
    options.progress(`hold: ${Math.round((performance.now() - holdStart) / 1000)}/${options.holdSeconds} s, ${total()} clients, ${hold.counts.answersChecked} answers checked`);
  }
  const after = await metricsOf(server);
  const cpuAfter = server?.cpuSeconds();
  const dashboards = await comparing;
  const splitAfter = server?.cpuSplit();
  const heldSeconds = (performance.now() - holdStart) / 1000;
  const rss = server?.rssBytes();
  const clientsHeld = total();
  const lateProblems: string[] = [];
  for (const worker of workers) worker.send({ type: 'reset' } satisfies WorkerMessage);
  const beside = options.intruders === undefined || options.intruders === 0 ? undefined : await holdBeside(options.intruders, target, server, after, options);
  if (beside !== undefined) for (const worker of workers) worker.send({ type: 'reset' } satisfies WorkerMessage);
  const windows = beside === undefined ? 2 : 3;
  // A process that never reports leaves its share out of the figures: said so, not fatal.
  await waitFor(() => resets.every((n) => n >= windows), { timeoutMs: 10_000, what: "every generator process's report of the hold" }).catch((error: Error) =>
    lateProblems.push(error.message),
  );

  await Promise.all(
    workers.map(
      (worker) =>
        new Promise<void>((resolve) => {
          worker.once('exit', () => resolve());
          worker.send({ type: 'stop' } satisfies WorkerMessage);
          setTimeout(() => worker.kill(), 30_000).unref();
        }),
    ),
  );
  const logLines = server?.stdoutLines;
  await server?.stop();

  // The server's own count where it has one; else what the clients received.
  const chunks = before !== undefined && after !== undefined ? metricTotal(after, 'multi_socket_chunks_total') - metricTotal(before, 'multi_socket_chunks_total') : hold.counts.chunks;
  const late = after === undefined ? undefined : histogramDelta(before, after, 'multi_socket_chunk_lateness_seconds');
  const cpu = cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : undefined;
  return {
    transport,
    tls: options.tls !== undefined,
    ...(handshakes === undefined ? {} : { handshakes }),
    clientsWanted: options.clients,
    clientsHeld,
    holdSeconds: round(heldSeconds),
    generatorProcesses: processes,
    serverWorkers: options.serverWorkers,
    serverMode: options.serverMode,
    chunksPerSecond: round(chunks / heldSeconds),
    serverLatenessMs: late === undefined ? undefined : { p50: late.p50 * 1000, p99: late.p99 * 1000, max: late.max * 1000 },
    serverLatenessMeanMs: after === undefined ? undefined : meanLatenessMs(before, after),
    dashboards,
    clientLatenessMs: { p50: round(hold.lateness.percentile(0.5) / 1000), p99: round(hold.lateness.percentile(0.99) / 1000), max: round(hold.lateness.max / 1000) },
    roundTripMs: {
      p50: round(hold.roundTrip.percentile(0.5) / 1000),
      p99: round(hold.roundTrip.percentile(0.99) / 1000),
      max: round(hold.roundTrip.max / 1000),
      count: hold.roundTrip.count,
    },
    serverCpuPercent: cpu === undefined ? undefined : round((cpu / heldSeconds) * 100),
    serverCpuUsPerChunk: cpu === undefined || chunks === 0 ? undefined : round((cpu * 1e6) / chunks),
    serverCpuSystemShare: splitBefore === undefined || splitAfter === undefined || cpu === undefined || cpu === 0 ? undefined : round((splitAfter.system - splitBefore.system) / cpu),
    serverRssMb: rss === undefined ? undefined : round(rss / 1048576),
    serverIdleRssMb: idleRss === undefined ? undefined : round(idleRss / 1048576),
    rssPerClientKb: rss === undefined || idleRss === undefined || clientsHeld === 0 ? undefined : round((rss - idleRss) / 1024 / clientsHeld),
    serverLogLines: logLines,
    gc: after === undefined ? undefined : gcDelta(before, after),
    answersChecked: hold.counts.answersChecked,
    answersWrong: hold.counts.answersWrong + ramp.counts.answersWrong,
    badChunks: hold.counts.badChunks + ramp.counts.badChunks,
    dropped: hold.counts.dropped + ramp.counts.dropped,
    connectFailures: ramp.counts.connectFailures + hold.counts.connectFailures,
    problems: [...lateProblems, ...ramp.problems, ...hold.problems, ...intruded.problems].slice(0, 20),
    ramp: samples,
    ...(beside === undefined
      ? {}
      : {
          intruded: {
            ...beside,
            clientLatenessMs: { p50: round(intruded.lateness.percentile(0.5) / 1000), p99: round(intruded.lateness.percentile(0.99) / 1000), max: round(intruded.lateness.max / 1000) },
            roundTripMs: {
              p50: round(intruded.roundTrip.percentile(0.5) / 1000),
              p99: round(intruded.roundTrip.percentile(0.99) / 1000),
              max: round(intruded.roundTrip.max / 1000),
              count: intruded.roundTrip.count,
            },
            answersChecked: intruded.counts.answersChecked,
            answersWrong: intruded.counts.answersWrong,
          },
        }),
  };
}

/** How long an intruder lives: several times over, then another takes its place. */
const INTRUDER_LIFE_MS = 3_000;

/**
 * The second hold: as long as the first, while `count` clients that never read and `count`
 * that flood the server with requests come and go (each lives a few seconds, then another
 * takes its place), from a thread of their own so that the checking clients' loops stay theirs.
 */
async function holdBeside(
  count: number,
  target: { host: string; port: number },
  server: ServerProcess | undefined,
  before: Metrics | undefined,
  options: ScaleOptions,
): Promise<Omit<IntrudedHold, 'clientLatenessMs' | 'roundTripMs' | 'answersChecked' | 'answersWrong'>> {
  const cpuBefore = server?.cpuSeconds();
  const started = performance.now();
  const kinds: readonly HostileKind[] = ['never-reads', 'request-flood'];
  const intruders = new Worker(new URL('../lib/hostile-worker.js', import.meta.url), {
    workerData: { target: { ...target, maxLifeMs: INTRUDER_LIFE_MS }, seed: 1, kinds },
  });
  // Enough for the whole hold at `2 * count` at a time; the thread is ended when the hold is over.
  const wave: HostileWave = { count: Math.ceil((2 * count * options.holdSeconds * 1000) / INTRUDER_LIFE_MS) * 2, concurrency: 2 * count };
  let tried: Record<string, number> = {};
  intruders.on('message', (message: { done: boolean; tried?: Record<string, number> }) => {
    if (message.tried !== undefined) tried = message.tried;
  });
  intruders.postMessage(wave);
  while (performance.now() - started < options.holdSeconds * 1000) {
    await delay(Math.max(0, Math.min(5000, options.holdSeconds * 1000 - (performance.now() - started))));
    options.progress(`hold beside ${count} non-readers and ${count} flooders: ${Math.round((performance.now() - started) / 1000)}/${options.holdSeconds} s`);
  }
  const after = await metricsOf(server);
  const cpuAfter = server?.cpuSeconds();
  const seconds = (performance.now() - started) / 1000;
  await intruders.terminate();
  const chunks = before !== undefined && after !== undefined ? metricTotal(after, 'multi_socket_chunks_total') - metricTotal(before, 'multi_socket_chunks_total') : 0;
  const late = after === undefined ? undefined : histogramDelta(before, after, 'multi_socket_chunk_lateness_seconds');
  return {
    intruders: count,
    seconds: round(seconds),
    intrudersTried: tried,
    chunksPerSecond: round(chunks / seconds),
    serverLatenessMs: late === undefined ? undefined : { p50: late.p50 * 1000, p99: late.p99 * 1000, max: late.max * 1000 },
    serverCpuPercent: cpuBefore === undefined || cpuAfter === undefined ? undefined : round(((cpuAfter - cpuBefore) / seconds) * 100),
    gc: after === undefined ? undefined : gcDelta(before, after),
  };
}

/**
 * Connections opened and closed as fast as the server takes them, 64 at a time, from a process
 * of its own; the server's CPU time over the same window, per connection.
 */
async function measureHandshakes(
  target: { host: string; port: number },
  tls: { ca: string } | undefined,
  seconds: number,
  server: ServerProcess | undefined,
  progress: (line: string) => void,
): Promise<HandshakeFigures> {
  progress(`${tls === undefined ? 'connections' : 'TLS handshakes'} as fast as the server takes them, for ${seconds} s`);
  const cpuBefore = server?.cpuSeconds();
  const worker = fork(HANDSHAKE_WORKER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const plan: HandshakePlan = { ...target, source: '127.0.0.250', seconds, concurrency: 64, ...(tls === undefined ? {} : { tls }) };
  const report = await new Promise<HandshakeReport>((resolve, reject) => {
    worker.once('message', (message: HandshakeReport) => resolve(message));
    worker.once('exit', (code) => reject(new Error(`the handshake worker exited (${String(code)}) without a report`)));
    worker.send(plan);
  });
  const cpuAfter = server?.cpuSeconds();
  const cpu = cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore;
  return {
    perSecond: round(report.established / report.seconds),
    failed: report.failed,
    serverCpuMsPerHandshake: cpu === undefined || report.established === 0 ? undefined : round((cpu * 1000) / report.established),
  };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function fmt(value: number): string {
  return value.toFixed(1);
}

/** The mean lateness between two scrapes, exact: the histogram's sum over its count. */
function meanLatenessMs(before: Metrics | undefined, after: Metrics): number | undefined {
  const name = 'multi_socket_chunk_lateness_seconds';
  const delta = (key: string): number => (after.get(key) ?? 0) - (before?.get(key) ?? 0);
  const count = delta(`${name}_count`);
  return count === 0 ? undefined : Math.round((delta(`${name}_sum`) * 1e6) / count) / 1000;
}

/** The server's metrics, when it serves them (the bare yardstick does not). */
async function metricsOf(server: ServerProcess | undefined): Promise<Metrics | undefined> {
  return server?.metricsUrl === undefined ? undefined : server.metrics();
}

/** GC pauses between two scrapes, from prom-client's nodejs_gc_duration_seconds histogram. */
function gcDelta(before: Metrics | undefined, after: Metrics): Record<string, { count: number; totalMs: number; maxMs: number }> {
  const kinds: Record<string, { count: number; totalMs: number; maxMs: number }> = {};
  for (const kind of ['minor', 'major', 'incremental', 'weakcb']) {
    const name = 'nodejs_gc_duration_seconds';
    const count = (after.get(`${name}_count{kind="${kind}"}`) ?? 0) - (before?.get(`${name}_count{kind="${kind}"}`) ?? 0);
    if (count === 0) continue;
    const totalMs = ((after.get(`${name}_sum{kind="${kind}"}`) ?? 0) - (before?.get(`${name}_sum{kind="${kind}"}`) ?? 0)) * 1000;
    let maxMs = 0;
    for (const [key, value] of after) {
      const match = new RegExp(`^${name}_bucket\\{le="([^"]+)",kind="${kind}"\\}$`).exec(key);
      if (match === null || match[1] === '+Inf') continue;
      const inBucketOrBelow = value - (before?.get(key) ?? 0);
      if (inBucketOrBelow < count && Number(match[1]) * 1000 > maxMs) maxMs = Number(match[1]) * 1000;
    }
    kinds[kind] = { count, totalMs: Math.round(totalMs * 10) / 10, maxMs };
  }
  return kinds;
}
