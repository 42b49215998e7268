/**
 * The benchmark suite: `npm run bench [-- SCENARIO ...] [options]`.
 *
 * Scenarios: scale, flood, segments, small, startup, isolation (these by default), and faults. See
 * BENCHMARKS.md for what each measures, the floors it is held to, and the latest figures.
 *
 *   npm run bench -- scale --clients 19000 --hold 60
 *   npm run bench -- scale --clients 100000 --workers 6
 *   npm run bench -- scale --target 127.0.0.1:65432     # any server speaking the protocol
 *   npm run bench -- scale --transport ws --clients 10000  # WebSocket clients: beside TCP and a bare ws server
 *   npm run bench -- isolation                           # one good client beside 100 non-readers
 *   npm run bench -- scale --intruders 100 --no-bare     # then a hold beside 100 non-readers and 100 flooders
 *   npm run bench -- scale --dashboards 10 --hold 120    # the hold's windows with ten dashboards open against those without
 *   npm run bench -- scale --tls --clients 5000 --hold 30  # TLS against the plain path and a bare node:tls server
 *   npm run bench -- --smoke                             # a few hundred clients, a few seconds
 *   npm run bench -- faults --hostile 10000 --concurrency 300
 *   npm run bench -- faults --soak 600                   # 10 minutes, heap after GC and handles over time
 *
 * It exits 1 if any figure is wrong (a wrong answer, a crash, a disturbed bystander, something
 * left behind).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { makeCertificates } from '../test/support/certs.js';
import { HOSTILE_KINDS } from './lib/hostile.js';
import { RESULTS_DIR, resultPath } from './lib/report.js';
import { rampChart } from './lib/svg.js';
import { faultsFailures, runFaults, type FaultsResult } from './scenarios/faults.js';
import { changePercent, type DashboardComparison, type Estimate } from './lib/dashboards.js';
import { runScale, type ScaleResult } from './scenarios/scale.js';
import { runPump, type PumpResult } from './scenarios/pump.js';
import { runSegments, type SegmentsResult } from './scenarios/segments.js';
import { runStartup, type StartupResult } from './scenarios/startup.js';
import { runIsolation, type IsolationResult } from './scenarios/isolation.js';

const SCENARIOS = ['scale', 'flood', 'segments', 'small', 'startup', 'isolation', 'faults'] as const;
type Scenario = (typeof SCENARIOS)[number];
/** The fault benchmark is its own run: it needs the machine to itself to judge bystanders' lateness. */
const DEFAULT_SCENARIOS: readonly Scenario[] = ['scale', 'flood', 'segments', 'small', 'startup', 'isolation'];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    clients: { type: 'string' },
    hold: { type: 'string' },
    ramp: { type: 'string', default: '2000' },
    'stats-rate': { type: 'string', default: '0.01' },
    workers: { type: 'string', default: '1' },
    'server-mode': { type: 'string', default: 'quiet' },
    target: { type: 'string' },
    seconds: { type: 'string' },
    runs: { type: 'string' },
    smoke: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'no-bare': { type: 'boolean', default: false },
    tls: { type: 'boolean', default: false },
    'non-readers': { type: 'string' },
    intruders: { type: 'string' },
    waves: { type: 'string' },
    hostile: { type: 'string' },
    concurrency: { type: 'string' },
    bystanders: { type: 'string' },
    soak: { type: 'string', default: '0' },
    seed: { type: 'string', default: '1' },
    kinds: { type: 'string', default: HOSTILE_KINDS.join(',') },
    transport: { type: 'string', default: 'tcp' },
    dashboards: { type: 'string' },
  },
});
const unknown = positionals.filter((name) => !(SCENARIOS as readonly string[]).includes(name));
if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}: choose from ${SCENARIOS.join(', ')}`);
const scenarios = positionals.length > 0 ? (positionals as Scenario[]) : DEFAULT_SCENARIOS;
const smoke = values.smoke;
const target = values.target === undefined ? undefined : parseTarget(values.target);
const progress = (line: string): void => {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${line}`);
  else process.stderr.write(`${line}\n`);
};

if (values.transport !== 'tcp' && values.transport !== 'ws') throw new Error(`--transport takes tcp or ws, not '${values.transport}'`);
const transport = values.transport;

const results: {
  scale?: ScaleResult;
  scaleBare?: ScaleResult;
  scaleWs?: ScaleResult;
  scaleBareWs?: ScaleResult;
  scaleTls?: ScaleResult;
  scaleBareTls?: ScaleResult;
  flood?: PumpResult;
  segments?: SegmentsResult;
  small?: PumpResult;
  startup?: StartupResult;
  isolation?: IsolationResult;
  faults?: FaultsResult;
  machine: Record<string, unknown>;
} = {
  machine: await machine(),
};
const failures: string[] = [];

for (const scenario of scenarios) {
  switch (scenario) {
    case 'scale': {
      const common = {
        clients: Number(values.clients ?? (smoke ? 300 : 19_000)),
        holdSeconds: Number(values.hold ?? (smoke ? 3 : 60)),
        rampPerSecond: Number(values.ramp),
        statisticsRate: Number(values['stats-rate']),
        serverWorkers: Number(values.workers),
        serverMode: values['server-mode'],
        serverNodeArgs: values.profile ? ['--cpu-prof', '--cpu-prof-dir', RESULTS_DIR] : [],
        dashboards: Number(values.dashboards ?? 0),
        target,
        progress,
      };
      if (values.tls) {
        await scaleOverTls(common);
        break;
      }
      const scale = await runScale({ ...common, intruders: Number(values.intruders ?? 0) });
      results.scale = scale;
      progress('');
      printScale(scale);
      if ((scale.intruded?.answersWrong ?? 0) > 0) failures.push(`scale: ${scale.intruded?.answersWrong} wrong answers beside the intruders`);
      if (scale.answersWrong > 0 || scale.badChunks > 0) failures.push(`scale: ${scale.answersWrong} wrong answers, ${scale.badChunks} bad chunks`);
      if (scale.clientsHeld < scale.clientsWanted) failures.push(`scale: held ${scale.clientsHeld} of ${scale.clientsWanted} clients`);
      if (scale.dashboards !== undefined) failures.push(...dashboardFailures(printDashboardCost(scale.dashboards), scale.dashboards, !smoke));
      if (scale.ramp.length > 1) {
        const chart = resultPath('scale', 'svg');
        writeFileSync(chart, rampChart(scale.ramp));
        console.log(`chart: ${chart}`);
      }
      if (transport === 'ws') {
        if (target !== undefined) throw new Error('--transport ws starts its own servers: it takes no --target');
        await scaleOverWebSocket(common, scale);
        break;
      }
      // The same load on a bare Node server, in the same run: the floor of this machine.
      if (target === undefined && !smoke && !values['no-bare'] && common.serverWorkers === 1) {
        const bare = await runScale({ ...common, bare: true, dashboards: 0 });
        results.scaleBare = bare;
        progress('');
        printScale(bare, 'bare Node server (a setTimeout and one write per chunk, nothing else)');
        if (scale.serverCpuUsPerChunk !== undefined && bare.serverCpuUsPerChunk !== undefined) {
          console.log(`  ours / bare, CPU per chunk: ${(scale.serverCpuUsPerChunk / bare.serverCpuUsPerChunk).toFixed(2)}x; RSS per client: ${((scale.rssPerClientKb ?? 0) / (bare.rssPerClientKb ?? 1)).toFixed(2)}x`);
        }
      }
      break;
    }
    case 'flood':
    case 'small': {
      if (target !== undefined) break;
      const pump = await runPump(scenario, { seconds: Number(values.seconds ?? (smoke ? 1 : 5)), progress });
      results[scenario] = pump;
      progress('');
      printPump(pump);
      if (pump.answersWrong > 0) failures.push(`${scenario}: wrong statistics answer`);
      break;
    }
    case 'segments': {
      if (target !== undefined) break;
      const segments = runSegments({ rounds: smoke ? 3 : 9, iterations: smoke ? 20 : 1000, progress });
      results.segments = segments;
      progress('');
      printSegments(segments);
      break;
    }
    case 'startup': {
      if (target !== undefined) break;
      const startup = await runStartup({ runs: Number(values.runs ?? (smoke ? 3 : 15)), progress });
      results.startup = startup;
      progress('');
      printStartup(startup);
      break;
    }
    case 'isolation': {
      if (target !== undefined) break;
      const isolation = await runIsolation({
        seconds: Number(values.seconds ?? (smoke ? 2 : 20)),
        nonReaders: Number(values['non-readers'] ?? (smoke ? 20 : 100)),
        waves: Number(values.waves ?? (smoke ? 1 : 3)),
        slowClientTimeoutSeconds: smoke ? 1 : 5,
        progress,
      });
      results.isolation = isolation;
      progress('');
      printIsolation(isolation);
      failures.push(...isolationFailures(isolation, !smoke));
      break;
    }
    case 'faults': {
      if (target !== undefined) break;
      const faults = await runFaults({
        hostile: Number(values.hostile ?? (smoke ? 150 : 3000)),
        concurrency: Number(values.concurrency ?? (smoke ? 30 : 200)),
        bystanders: Number(values.bystanders ?? (smoke ? 5 : 20)),
        soakSeconds: Number(values.soak),
        seed: Number(values.seed),
        kinds: values.kinds.split(','),
        serverNodeArgs: values.profile ? ['--cpu-prof', '--cpu-prof-dir', RESULTS_DIR] : [],
        progress,
      });
      results.faults = faults;
      progress('');
      printFaults(faults);
      failures.push(...faultsFailures(faults));
      break;
    }
  }
}

// Named after the scenario when there is one (`faults-…`, `soak-…` for a soak), else `bench-…`.
const only = scenarios.length === 1 ? scenarios[0] : undefined;
const file = resultPath(only === 'faults' && Number(values.soak) > 0 ? 'soak' : (only ?? 'bench'));
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nfull results: ${file}`);
if (failures.length > 0) {
  console.log(`FAILED:\n  ${failures.join('\n  ')}`);
  process.exitCode = 1;
}

/**
 * The same load as WebSocket clients of the web port, in the same run as the TCP one, and on a
 * bare `ws` server: what the web port costs beside TCP, and what our session costs over the
 * same library. Floors: every client held at a lateness p99 within 1.5x of TCP's, CPU per
 * chunk within 1.5x of the bare ws server's.
 */
async function scaleOverWebSocket(common: Parameters<typeof runScale>[0], tcp: ScaleResult): Promise<void> {
  const ws = await runScale({ ...common, transport: 'ws' });
  results.scaleWs = ws;
  progress('');
  printScale(ws);
  if (ws.answersWrong > 0 || ws.badChunks > 0 || ws.dropped > 0) failures.push(`scale over WebSocket: ${ws.answersWrong} wrong answers, ${ws.badChunks} bad chunks, ${ws.dropped} dropped`);
  if (ws.clientsHeld < ws.clientsWanted) failures.push(`scale over WebSocket: held ${ws.clientsHeld} of ${ws.clientsWanted} clients`);
  let bare: ScaleResult | undefined;
  if (!smoke && !values['no-bare'] && common.serverWorkers === 1) {
    bare = await runScale({ ...common, transport: 'ws', bare: true });
    results.scaleBareWs = bare;
    progress('');
    printScale(bare, 'bare ws server (a setTimeout and one message per chunk, nothing else)');
  }
  const ratio = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined || b === 0 ? undefined : a / b);
  const x = (value: number | undefined): string => (value === undefined ? 'n/a' : `${value.toFixed(2)}x`);
  const lateness = ratio(ws.serverLatenessMs?.p99, tcp.serverLatenessMs?.p99);
  const clientLateness = ratio(ws.clientLatenessMs.p99, tcp.clientLatenessMs.p99);
  const cpuVsBare = ratio(ws.serverCpuUsPerChunk, bare?.serverCpuUsPerChunk);
  table('WebSocket against TCP and against a bare ws server', [
    ['lateness p99, WebSocket / TCP', `${x(lateness)} on the server's clock, ${x(clientLateness)} on the clients'`],
    ['CPU per chunk, WebSocket / TCP', x(ratio(ws.serverCpuUsPerChunk, tcp.serverCpuUsPerChunk))],
    ['CPU per chunk, ours / bare ws', x(cpuVsBare)],
    ['RSS per client', `WebSocket ${ws.rssPerClientKb?.toFixed(2) ?? '?'} KB, TCP ${tcp.rssPerClientKb?.toFixed(2) ?? '?'} KB, bare ws ${bare?.rssPerClientKb?.toFixed(2) ?? 'n/a'} KB`],
  ]);
  if (smoke) return;
  if (lateness !== undefined && lateness > 1.5) failures.push(`scale over WebSocket: lateness p99 ${lateness.toFixed(2)}x TCP's (floor 1.5x)`);
  if (cpuVsBare !== undefined && cpuVsBare > 1.5) failures.push(`scale over WebSocket: CPU per chunk ${cpuVsBare.toFixed(2)}x the bare ws server's (floor 1.5x)`);
}

function printScale(r: ScaleResult, title?: string): void {
  const ms = (v: { p50: number; p99: number; max: number } | undefined, maxPrefix = ''): string =>
    v === undefined ? 'n/a' : `p50 ${v.p50.toFixed(2)} / p99 ${v.p99.toFixed(2)} / max ${maxPrefix}${v.max.toFixed(2)} ms`;
  table(title ?? `scale: ${r.clientsWanted} ${r.transport === 'ws' ? 'WebSocket ' : ''}clients, ${r.serverWorkers} server process(es), ${r.serverMode} mode, hold ${r.holdSeconds} s`, [
    ['clients held', `${r.clientsHeld} (generator: ${r.generatorProcesses} processes)`],
    ['chunks per second', r.chunksPerSecond.toFixed(0)],
    ['lateness, server side', `${ms(r.serverLatenessMs, '<= ')}${r.serverLatenessMeanMs === undefined ? '' : `, mean ${r.serverLatenessMeanMs.toFixed(3)} ms`}`],
    ['lateness, client side', ms(r.clientLatenessMs)],
    ['statistics round trip', `${ms(r.roundTripMs)} (${r.roundTripMs.count} answers)`],
    ['server CPU', r.serverCpuPercent === undefined ? 'n/a' : `${r.serverCpuPercent.toFixed(1)} % of one core, ${r.serverCpuUsPerChunk?.toFixed(1) ?? 'n/a'} us per chunk, ${Math.round((r.serverCpuSystemShare ?? 0) * 100)} % of it in the kernel`],
    ['server RSS', r.serverRssMb === undefined ? 'n/a' : `${r.serverRssMb.toFixed(1)} MB (idle ${r.serverIdleRssMb?.toFixed(1) ?? '?'} MB), ${r.rssPerClientKb?.toFixed(2) ?? '?'} KB per client`],
    ['server log lines', String(r.serverLogLines ?? 'n/a')],
    ['server GC during the hold', gcPauses(r.gc)],
    ['statistics answers checked / wrong', `${r.answersChecked} / ${r.answersWrong}`],
    ['bad chunks, dropped, connect failures', `${r.badChunks}, ${r.dropped}, ${r.connectFailures}`],
  ]);
  const beside = r.intruded;
  if (beside !== undefined) {
    table(`the same clients, then ${beside.seconds} s beside ${beside.intruders} clients that never read and ${beside.intruders} that flood requests, coming and going`, [
      ['intruders opened', Object.entries(beside.intrudersTried).map(([kind, n]) => `${kind} ${n}`).join(', ')],
      ['chunks per second', beside.chunksPerSecond.toFixed(0)],
      ['lateness, server side', `${ms(beside.serverLatenessMs, '<= ')} (alone: ${ms(r.serverLatenessMs, '<= ')})`],
      ['lateness, client side', `${ms(beside.clientLatenessMs)} (alone: ${ms(r.clientLatenessMs)})`],
      ['statistics round trip', `${ms(beside.roundTripMs)} (${beside.roundTripMs.count} answers)`],
      ['server CPU', beside.serverCpuPercent === undefined ? 'n/a' : `${beside.serverCpuPercent.toFixed(1)} % of one core`],
      ['server GC', `${gcPauses(beside.gc)} (alone: ${gcPauses(r.gc)})`],
      ['statistics answers checked / wrong', `${beside.answersChecked} / ${beside.answersWrong}`],
    ]);
  }
  for (const problem of r.problems) console.log(`  problem: ${problem}`);
}

/**
 * What the dashboards moved: CPU per chunk (each side the mean of its windows) and lateness
 * (the median of the windows' exact means), the change with its 95 % interval; and the CPU
 * they took, in ms per second, which on a server without clients is what they cost and nothing
 * else. Each window is shown too.
 */
function printDashboardCost(c: DashboardComparison): { cpu: Estimate; lateness: Estimate } {
  const pm = (e: Estimate, digits: number): string => `${e.mean.toFixed(digits)}${Number.isFinite(e.halfWidth) ? ` ± ${e.halfWidth.toFixed(digits)}` : ''}`;
  const percent = (e: Estimate): string => `${e.mean >= 0 ? '+' : ''}${e.mean.toFixed(1)} %${Number.isFinite(e.halfWidth) ? ` ± ${e.halfWidth.toFixed(1)}` : ''}`;
  const cpu = changePercent(c.without.cpuUsPerChunk, c.with.cpuUsPerChunk);
  const lateness = changePercent(c.without.latenessMeanMs, c.with.latenessMeanMs);
  const side = (s: DashboardComparison['with']): string => `${s.windows} windows, ${s.seconds} s, ${s.chunks} chunks`;
  table(`dashboards: ${c.dashboards} open (each: /events, /connz every 5 s) in every other ${c.windowSeconds} s window of the hold, against none (floor: within 5 %; ± is a 95 % interval)`, [
    ['without / with', `${side(c.without)} / ${side(c.with)}`],
    ['server CPU per chunk', `${pm(c.without.cpuUsPerChunk, 1)} -> ${pm(c.with.cpuUsPerChunk, 1)} us (${percent(cpu)})`],
    ["server lateness, the windows' median mean", `${pm(c.without.latenessMeanMs, 3)} -> ${pm(c.with.latenessMeanMs, 3)} ms (${percent(lateness)})`],
    ['server lateness, p50 / p99 (bounds)', `${c.without.latenessP50Ms} / ${c.without.latenessP99Ms} -> ${c.with.latenessP50Ms} / ${c.with.latenessP99Ms} ms`],
    ['server CPU', `${pm(c.without.cpuMsPerSecond, 1)} -> ${pm(c.with.cpuMsPerSecond, 1)} ms per second`],
    ['dashboards received', `${c.received.events} events, ${c.received.connzPolls} /connz answers, ${c.received.errors} errors`],
    ...c.windows.map((w, i): [string, string] => [
      `  window ${i + 1}, ${w.open ? 'with' : 'without'}`,
      `${w.cpuMsPerSecond.toFixed(1)} ms/s, ${w.cpuUsPerChunk.toFixed(1)} us per chunk, lateness mean ${w.latenessMeanMs.toFixed(3)} / p99 <= ${w.latenessP99Ms} / max <= ${w.latenessMaxMs} ms`,
    ]),
  ]);
  for (const [name, change] of [['CPU per chunk', cpu], ['mean lateness', lateness]] as const) {
    if (change.halfWidth > 5 && Number.isFinite(change.halfWidth)) console.log(`  note: the ${name} of one window varies more than the floor here: a change within ± ${change.halfWidth.toFixed(1)} % is not resolved by this run`);
  }
  return { cpu, lateness };
}

/** A full run fails if the dashboards' cost is shown to be over 5 % (the whole interval above it), or they were not fed. */
function dashboardFailures(cost: { cpu: Estimate; lateness: Estimate }, c: DashboardComparison, floor: boolean): string[] {
  const failed: string[] = [];
  if (c.received.errors > 0 || c.received.events === 0) failed.push(`dashboards: ${c.received.errors} errors, ${c.received.events} events`);
  if (!floor) return failed;
  if (cost.lateness.mean - cost.lateness.halfWidth > 5) failed.push(`dashboards: mean lateness moved ${cost.lateness.mean.toFixed(1)} ± ${cost.lateness.halfWidth.toFixed(1)} % (floor 5 %)`);
  if (cost.cpu.mean - cost.cpu.halfWidth > 5) failed.push(`dashboards: CPU per chunk moved ${cost.cpu.mean.toFixed(1)} ± ${cost.cpu.halfWidth.toFixed(1)} % (floor 5 %)`);
  return failed;
}

/**
 * `scale --tls`: the same load on our server without TLS, with it, and on a bare `node:tls`
 * server, in one run; before each ramp, connections set up as fast as the server takes them.
 */
async function scaleOverTls(common: Omit<Parameters<typeof runScale>[0], 'tls' | 'bare' | 'handshakeSeconds'>): Promise<void> {
  const certs = await makeCertificates();
  try {
    const tls = { cert: certs.server.cert, key: certs.server.key, ca: certs.read(certs.ca.cert) };
    const handshakeSeconds = smoke ? 1 : 5;
    const plain = await runScale({ ...common, handshakeSeconds });
    const ours = await runScale({ ...common, tls, handshakeSeconds });
    const bare = values['no-bare'] || common.target !== undefined ? undefined : await runScale({ ...common, tls, bare: true, handshakeSeconds });
    Object.assign(results, { scale: plain, scaleTls: ours, ...(bare === undefined ? {} : { scaleBareTls: bare }) });
    progress('');
    printScale(plain, `scale: ${plain.clientsWanted} clients, plain TCP, hold ${plain.holdSeconds} s`);
    printScale(ours, `scale: ${ours.clientsWanted} clients, TLS, hold ${ours.holdSeconds} s`);
    if (bare !== undefined) printScale(bare, 'bare node:tls server (a setTimeout and one write per chunk, nothing else)');
    const shakes = (r: ScaleResult | undefined): string =>
      r?.handshakes === undefined ? 'n/a' : `${r.handshakes.perSecond.toFixed(0)}/s, server CPU ${r.handshakes.serverCpuMsPerHandshake?.toFixed(2) ?? 'n/a'} ms each${r.handshakes.failed > 0 ? `, ${r.handshakes.failed} failed` : ''}`;
    const perChunk = (r: ScaleResult | undefined): string => (r?.serverCpuUsPerChunk === undefined ? 'n/a' : `${r.serverCpuUsPerChunk.toFixed(1)} us`);
    const ratio = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined || b === 0 ? 'n/a' : `${(a / b).toFixed(2)}x`);
    table('TLS against the plain path and a bare node:tls server, same run', [
      ['handshakes, 64 at a time (TLS)', `ours ${shakes(ours)}; bare node:tls ${shakes(bare)}`],
      ['connections, 64 at a time (plain)', `ours ${shakes(plain)}`],
      ['server CPU per chunk', `TLS ${perChunk(ours)}, plain ${perChunk(plain)} (${ratio(ours.serverCpuUsPerChunk, plain.serverCpuUsPerChunk)}); bare node:tls ${perChunk(bare)} (ours / bare ${ratio(ours.serverCpuUsPerChunk, bare?.serverCpuUsPerChunk)})`],
      ['RSS per client', `TLS ${ours.rssPerClientKb?.toFixed(2) ?? 'n/a'} KB, plain ${plain.rssPerClientKb?.toFixed(2) ?? 'n/a'} KB; bare node:tls ${bare?.rssPerClientKb?.toFixed(2) ?? 'n/a'} KB`],
      ['server lateness p99', `TLS <= ${ours.serverLatenessMs?.p99.toFixed(2) ?? 'n/a'} ms, plain <= ${plain.serverLatenessMs?.p99.toFixed(2) ?? 'n/a'} ms`],
    ]);
    for (const [name, r] of [['plain', plain], ['TLS', ours], ['bare node:tls', bare]] as const) {
      if (r === undefined) continue;
      if (r.answersWrong > 0 || r.badChunks > 0) failures.push(`scale (${name}): ${r.answersWrong} wrong answers, ${r.badChunks} bad chunks`);
      if (r.clientsHeld < r.clientsWanted) failures.push(`scale (${name}): held ${r.clientsHeld} of ${r.clientsWanted} clients`);
    }
  } finally {
    certs.remove();
  }
}

function printPump(r: PumpResult): void {
  table(`${r.scenario}: ${r.description}`, [
    ['ours', `${fmtRate(r.ours.perSecond, r.unit)} (${r.ours.runs.map((v) => fmtRate(v, r.unit)).join(', ')}); ${r.ours.cores.toFixed(2)} cores, the reader ${r.ours.readerCores.toFixed(2)}`],
    ['bare Node pump', `${fmtRate(r.bare.perSecond, r.unit)} (${r.bare.runs.map((v) => fmtRate(v, r.unit)).join(', ')}); ${r.bare.cores.toFixed(2)} cores, the reader ${r.bare.readerCores.toFixed(2)}`],
    ['ratio (medians)', `${r.ratio.toFixed(2)}x`],
  ]);
}

/** GC pauses by kind, as the scale table prints them. */
function gcPauses(gc: ScaleResult['gc']): string {
  if (gc === undefined) return 'n/a';
  return (
    Object.entries(gc)
      .map(([kind, g]) => `${kind} ${g.count} (${g.totalMs} ms, longest > ${g.maxMs} ms)`)
      .join(', ') || 'none'
  );
}

function printSegments(r: SegmentsResult): void {
  table(`segments: one flooding segment (128 KiB of keystream) on one thread, median of ${r.rounds} rounds of ${r.iterations}`, [
    ["its pages' seeds (AES-128-CTR)", `${r.seedsUs.toFixed(1)} us`],
    ['its pages (xoshiro128++ in the kernel)', `${r.pagesUs.toFixed(1)} us`],
    ['kernel, alphabet by runs (the default)', `${r.kernelByRunsUs.toFixed(1)} us`],
    ['kernel, alphabet by tables (five runs)', `${r.kernelByTablesUs.toFixed(1)} us`],
    ['the whole segment', `${r.segmentUs.toFixed(1)} us`],
  ]);
}

function printStartup(r: StartupResult): void {
  table(`startup: median of ${r.runs} runs each, interleaved`, [
    ['node -e 0', `${r.nodeMs.toFixed(1)} ms`],
    ['server: launch to listening', `${r.serverMs.toFixed(1)} ms (${(r.serverMs / r.nodeMs).toFixed(2)}x)`],
    ['client: launch to connected', `${r.clientMs.toFixed(1)} ms (${(r.clientMs / r.nodeMs).toFixed(2)}x)`],
  ]);
}

function printIsolation(r: IsolationResult): void {
  const trips = (t: IsolationResult['alone']): string => `p50 ${t.p50.toFixed(1)} / p99 ${t.p99.toFixed(1)} / max ${t.max.toFixed(1)} ms (${t.count} answers)`;
  table(`isolation: ${r.description}`, [
    ['statistics round trip, alone', `${trips(r.alone)}, ${r.aloneMiBps.toFixed(0)} MiB/s of symbols`],
    ['statistics round trip, beside', `${trips(r.beside)}, ${r.besideMiBps.toFixed(0)} MiB/s of symbols`],
    ['ratio of the p99s (floor 2x)', `${r.ratio.toFixed(2)}x`],
    ['non-readers cut off', `${r.nonReaders.cutOff} of ${r.nonReaders.opened}, the last after ${(r.nonReaders.longestLifeMs / 1000).toFixed(1)} s`],
    ['server RSS', `${r.serverRssMb.alone.toFixed(1)} MB alone, peak ${r.serverRssMb.peak.toFixed(1)} MB beside`],
    ['statistics answers checked / wrong', `${r.answersChecked} / ${r.answersWrong}`],
  ]);
}

/** What makes an isolation run fail: wrong answers and uncut non-readers always, the 2x floor on full runs. */
function isolationFailures(r: IsolationResult, floor: boolean): string[] {
  const failed: string[] = [];
  if (r.answersWrong > 0) failed.push(`isolation: ${r.answersWrong} wrong answers`);
  if (r.goodClientCut) failed.push('isolation: the good client was disconnected');
  if (r.nonReaders.cutOff !== r.nonReaders.opened) failed.push(`isolation: ${r.nonReaders.cutOff} of ${r.nonReaders.opened} non-readers cut off`);
  if (floor && !(r.ratio <= 2)) failed.push(`isolation: p99 beside the non-readers ${r.ratio.toFixed(2)}x the p99 alone (floor 2x)`);
  return failed;
}

function printFaults(r: FaultsResult): void {
  const ms = (seconds: number): string => `${Math.round(seconds * 10000) / 10} ms`;
  const back = (figure: FaultsResult['handles']): string => `${figure.back ? 'yes' : 'NO'} (${String(figure.baseline)} -> ${String(figure.after)})`;
  table(`faults: ${r.hostileTried} hostile connections against the server, beside ${r.bystanders} checking bystanders`, [
    ['hostile connections tried', `${r.hostileTried} (${Object.keys(r.byKind).length} kinds)`],
    ['server crashes', String(r.serverCrashes)],
    ['bystanders disturbed', `${r.bystandersDisturbed} of ${r.bystanders} (worst lateness ${r.bystanderLatenessMaxMs} ms, p99 ${r.bystanderLatenessP99Ms} ms)`],
    ['server-side lateness (hostile phase)', `p50 ${ms(r.serverLateness.p50)}, p99 ${ms(r.serverLateness.p99)}, max <= ${ms(r.serverLateness.max)}`],
    ['statistics answers checked / wrong', `${r.statisticsAnswersChecked} / ${r.statisticsAnswersWrong}`],
    ['protocol errors reported by the server', String(r.serverProtocolErrors)],
    ['peak server RSS', `${r.peakRssMb} MB`],
    ['handles back to baseline', back(r.handles)],
    ['clients back to baseline', back(r.clients)],
    ['open files back to baseline', back(r.openFiles)],
  ]);
  if (r.soak.length > 0) {
    console.log('\n  seconds  heap after GC  handles  clients  RSS');
    for (const s of r.soak) console.log(`  ${String(s.seconds).padStart(7)}  ${`${s.heapAfterGcMb} MB`.padStart(13)}  ${String(s.handles).padStart(7)}  ${String(s.clients).padStart(7)}  ${s.rssMb} MB`);
  }
  for (const problem of r.problems) console.log(`  problem: ${problem}`);
}

function table(title: string, rows: readonly (readonly [string, string])[]): void {
  console.log(`\n${title}`);
  const width = Math.max(...rows.map(([name]) => name.length));
  for (const [name, value] of rows) console.log(`  ${name.padEnd(width)}  ${value}`);
}

function fmtRate(value: number, unit: string): string {
  if (unit === 'bytes/s') return `${(value / 1048576).toFixed(0)} MiB/s`;
  return `${(value / 1000).toFixed(0)} k ${unit}`;
}

function parseTarget(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text);
  if (match === null) throw new Error(`--target takes HOST:PORT, not '${text}'`);
  return { host: match[1] ?? match[2] ?? '127.0.0.1', port: Number(match[3]) };
}

async function machine(): Promise<Record<string, unknown>> {
  const os = await import('node:os');
  return { node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memoryGb: Math.round(os.totalmem() / 2 ** 30), platform: `${os.platform()} ${os.release()}`, date: new Date().toISOString() };
}
