import { Agent, get, type ClientRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { metricTotal, type Metrics } from '../../test/support/metrics.js';
import { histogramDelta, type ServerProcess } from './server-process.js';

/** What the dashboard page does: one event stream with five minutes of backlog, a poll of the connections every five seconds (while its table is in sight). */
const BACKLOG = 300;
const CONNZ_EVERY_MS = 5_000;
const CONNZ_LIMIT = 20;

export interface DashboardTally {
  readonly viewers: number;
  /** Events received over every stream, the backlogs included. */
  readonly events: number;
  readonly connzPolls: number;
  readonly errors: number;
}

/**
 * N dashboards open on the monitor, as a browser loads the page: each reads `/events` (all its
 * events, counted) and polls `/connz?limit=20` over a connection it keeps, the polls spread over
 * the interval as pages opened at different times would be. The cost they add is the
 * server's to show.
 */
export class Dashboards {
  readonly #base: string;
  readonly #streams: ClientRequest[] = [];
  readonly #agents: Agent[] = [];
  readonly #timers: NodeJS.Timeout[] = [];
  #events = 0;
  #polls = 0;
  #errors = 0;
  /** Closing cuts what is in flight: those are not errors. */
  #closed = false;

  private constructor(base: string) {
    this.#base = base;
  }

  /** Opens `count` dashboards on the monitor at `base` (`http://host:port`); resolves once each has had its backlog and a live event. */
  static async open(base: string, count: number): Promise<Dashboards> {
    const dashboards = new Dashboards(base);
    await Promise.all(Array.from({ length: count }, (_, i) => dashboards.#openOne(i, count)));
    return dashboards;
  }

  tally(): DashboardTally {
    return { viewers: this.#streams.length, events: this.#events, connzPolls: this.#polls, errors: this.#errors };
  }

  close(): DashboardTally {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    for (const stream of this.#streams) stream.destroy();
    for (const agent of this.#agents) agent.destroy();
    return this.tally();
  }

  #openOne(index: number, count: number): Promise<void> {
    return new Promise((resolve) => {
      const stream = get(`${this.#base}/events?backlog=${BACKLOG}`, { agent: false }, (response) => {
        if (response.statusCode !== 200) this.#failed();
        response.setEncoding('utf8');
        // Each event ends with a blank line, and so does the stream's opening block (a comment, the retry).
        let blocks = 0;
        let endedWithNewline = false;
        let firstAt: number | undefined;
        response.on('data', (chunk: string) => {
          // The backlog comes at once, live events a second apart: one well after the first data is live.
          firstAt ??= performance.now();
          if (performance.now() - firstAt > 500) resolve();
          for (let at = chunk.indexOf('\n'); at !== -1; at = chunk.indexOf('\n', at + 1)) {
            if (at === 0 ? endedWithNewline : chunk[at - 1] === '\n') {
              if (blocks++ > 0) this.#events++;
            }
          }
          endedWithNewline = chunk.endsWith('\n');
        });
      });
      stream.on('error', () => {
        this.#failed();
        resolve();
      });
      this.#streams.push(stream);
      // A browser keeps its connection for the polls, beside the one of the stream.
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      this.#agents.push(agent);
      const first = setTimeout(() => {
        this.#timers.push(setInterval(() => this.#poll(agent), CONNZ_EVERY_MS));
        this.#poll(agent);
      }, (CONNZ_EVERY_MS * index) / count);
      this.#timers.push(first);
    });
  }

  #poll(agent: Agent): void {
    get(`${this.#base}/connz?limit=${CONNZ_LIMIT}`, { agent }, (response) => {
      if (response.statusCode === 200) this.#polls++;
      else this.#failed();
      response.resume();
    }).on('error', () => this.#failed());
  }

  #failed(): void {
    if (!this.#closed) this.#errors++;
  }
}

/** One window of the comparison. */
export interface DashboardWindow {
  readonly open: boolean;
  readonly seconds: number;
  readonly chunks: number;
  readonly cpuMsPerSecond: number;
  readonly cpuUsPerChunk: number;
  /** Exact, from the histogram's sum and count. */
  readonly latenessMeanMs: number;
  /** Bucket bounds. */
  readonly latenessP99Ms: number;
  readonly latenessMaxMs: number;
}

/** A side's figure over its windows, and the half-width of its 95 % interval. */
export interface Estimate {
  readonly mean: number;
  readonly halfWidth: number;
}

/** One side of the comparison: the windows without dashboards, or those with them open. */
export interface DashboardSide {
  readonly windows: number;
  readonly seconds: number;
  readonly chunks: number;
  /** The mean of the windows' (Student's t interval). */
  readonly cpuMsPerSecond: Estimate;
  readonly cpuUsPerChunk: Estimate;
  /**
   * The median of the windows' mean lateness, with a box plot's notch as its interval: one
   * window with a stall of the machine in it (a 250 ms pause) moves the mean of the windows by
   * more than everything else, and the median by one place.
   */
  readonly latenessMeanMs: Estimate;
  /** Of all the side's chunks together, bucket bounds. */
  readonly latenessP50Ms: number;
  readonly latenessP99Ms: number;
}

export interface DashboardComparison {
  readonly dashboards: number;
  readonly windowSeconds: number;
  readonly without: DashboardSide;
  readonly with: DashboardSide;
  readonly windows: readonly DashboardWindow[];
  readonly received: DashboardTally;
}

const LATENESS = 'multi_socket_chunk_lateness_seconds';
const CHUNKS = 'multi_socket_chunks_total';

/**
 * What `count` dashboards cost a loaded server, measured on the same server and clients:
 * windows of up to `longestWindowSeconds` without them and with them open, in the order
 * without, with, with, without, without, with… (so that a drift of the machine over the run
 * weighs on both sides alike), for `seconds` in all. Each side's figure is the mean of its
 * windows', with the interval that their spread gives it.
 */
export async function compareDashboards(server: ServerProcess, base: string, count: number, seconds: number, longestWindowSeconds = 10): Promise<DashboardComparison> {
  // Two windows at least, one of each.
  const windowSeconds = Math.min(longestWindowSeconds, seconds / 2);
  const windows: { readonly window: DashboardWindow; readonly deltas: Metrics }[] = [];
  let received: DashboardTally = { viewers: 0, events: 0, connzPolls: 0, errors: 0 };
  for (let n = 0; n < Math.floor(seconds / windowSeconds); n++) {
    const open = ((n + 1) >> 1) % 2 === 1;
    // Open before the window starts: it measures them open, not opening.
    const dashboards = open ? await Dashboards.open(base, count) : undefined;
    const before = await server.metrics();
    const cpuBefore = server.cpuSeconds();
    const startedAt = performance.now();
    await new Promise((resolve) => setTimeout(resolve, windowSeconds * 1000));
    const after = await server.metrics();
    const cpuSeconds = server.cpuSeconds() - cpuBefore;
    const deltas = new Map<string, number>();
    for (const [key, value] of after) if (key === CHUNKS || key.startsWith(LATENESS)) deltas.set(key, value - (before.get(key) ?? 0));
    windows.push({ window: windowOf(open, deltas, cpuSeconds, (performance.now() - startedAt) / 1000), deltas });
    const tally = dashboards?.close();
    if (tally !== undefined) received = { viewers: tally.viewers, events: received.events + tally.events, connzPolls: received.connzPolls + tally.connzPolls, errors: received.errors + tally.errors };
  }
  const side = (open: boolean): DashboardSide => {
    const mine = windows.filter(({ window }) => window.open === open);
    const deltas = new Map<string, number>();
    for (const { deltas: each } of mine) for (const [key, value] of each) deltas.set(key, (deltas.get(key) ?? 0) + value);
    const late = histogramDelta(undefined, deltas, LATENESS);
    const over = (read: (window: DashboardWindow) => number): Estimate => estimate(mine.map(({ window }) => read(window)));
    return {
      windows: mine.length,
      seconds: Math.round(mine.reduce((sum, { window }) => sum + window.seconds, 0) * 10) / 10,
      chunks: metricTotal(deltas, CHUNKS),
      cpuMsPerSecond: over((w) => w.cpuMsPerSecond),
      cpuUsPerChunk: over((w) => w.cpuUsPerChunk),
      latenessMeanMs: medianEstimate(mine.map(({ window }) => window.latenessMeanMs)),
      latenessP50Ms: late.p50 * 1000,
      latenessP99Ms: late.p99 * 1000,
    };
  };
  return { dashboards: count, windowSeconds, without: side(false), with: side(true), windows: windows.map(({ window }) => window), received };
}

function windowOf(open: boolean, deltas: Metrics, cpuSeconds: number, seconds: number): DashboardWindow {
  const chunks = metricTotal(deltas, CHUNKS);
  const late = histogramDelta(undefined, deltas, LATENESS);
  const count = deltas.get(`${LATENESS}_count`) ?? 0;
  return {
    open,
    seconds: Math.round(seconds * 10) / 10,
    chunks,
    cpuMsPerSecond: Math.round((cpuSeconds * 1e4) / seconds) / 10,
    cpuUsPerChunk: chunks === 0 ? 0 : Math.round((cpuSeconds * 1e7) / chunks) / 10,
    latenessMeanMs: count === 0 ? 0 : Math.round(((deltas.get(`${LATENESS}_sum`) ?? 0) * 1e6) / count) / 1000,
    latenessP99Ms: late.p99 * 1000,
    latenessMaxMs: late.max * 1000,
  };
}

/** Student's t for a two-sided 95 % interval, by degrees of freedom. */
const T95 = [Number.POSITIVE_INFINITY, 12.71, 4.3, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26, 2.23, 2.2, 2.18, 2.16, 2.14, 2.13, 2.12, 2.11, 2.1, 2.09, 2.09];

export function estimate(values: readonly number[]): Estimate {
  const n = values.length;
  const mean = values.reduce((sum, value) => sum + value, 0) / Math.max(1, n);
  if (n < 2) return { mean, halfWidth: Number.POSITIVE_INFINITY };
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (n - 1);
  return { mean, halfWidth: (T95[n - 1] ?? 1.96) * Math.sqrt(variance / n) };
}

/** The median and the half-width of a box plot's notch, 1.58 IQR / sqrt(n) (McGill, Tukey and Larsen): about a 95 % interval. */
export function medianEstimate(values: readonly number[]): Estimate {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => {
    const position = q * (sorted.length - 1);
    const low = Math.floor(position);
    return (sorted[low] ?? 0) + ((sorted[Math.ceil(position)] ?? 0) - (sorted[low] ?? 0)) * (position - low);
  };
  if (sorted.length < 4) return { mean: at(0.5), halfWidth: Number.POSITIVE_INFINITY };
  return { mean: at(0.5), halfWidth: (1.58 * (at(0.75) - at(0.25))) / Math.sqrt(sorted.length) };
}

/** How far `after` is from `before`, in percent of `before`, with the half-width of its interval. */
export function changePercent(before: Estimate, after: Estimate): Estimate {
  if (before.mean === 0) return { mean: 0, halfWidth: Number.POSITIVE_INFINITY };
  return { mean: ((after.mean - before.mean) / before.mean) * 100, halfWidth: (Math.hypot(before.halfWidth, after.halfWidth) / before.mean) * 100 };
}
