import { Agent, get, type ClientRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { metricTotal, type Metrics } from '../../test/support/metrics.js';
import { histogramDelta, type ServerProcess } from './server-process.js';

/** What the dashboard page does: one event stream with five minutes of backlog, a poll of the connections every two seconds. */
const BACKLOG = 300;
const CONNZ_EVERY_MS = 2_000;
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
 * the two seconds as pages opened at different times would be. The cost they add is the
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
  readonly cpuUsPerChunk: number;
  /** Exact, from the histogram's sum and count. */
  readonly latenessMeanMs: number;
  /** Bucket bounds. */
  readonly latenessP99Ms: number;
  readonly latenessMaxMs: number;
}

/** One side of the comparison: the windows without dashboards, or those with them open, added up. */
export interface DashboardSide {
  readonly windows: number;
  readonly seconds: number;
  readonly chunks: number;
  readonly cpuUsPerChunk: number;
  /** Of every chunk of the side: a single stall of the machine in one window weighs on it. */
  readonly latenessMeanMs: number;
  /** The median of the windows' means: what a stall in one window does not move. */
  readonly latenessMedianMs: number;
  /** Bucket bounds. */
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
 * weighs on both sides alike), for `seconds` in all. Each side adds up its windows' CPU time,
 * chunks and lateness histogram.
 */
export async function compareDashboards(server: ServerProcess, base: string, count: number, seconds: number, longestWindowSeconds = 10): Promise<DashboardComparison> {
  // Two windows at least, one of each.
  const windowSeconds = Math.min(longestWindowSeconds, seconds / 2);
  const windows: { readonly window: DashboardWindow; readonly deltas: Metrics; readonly cpuSeconds: number }[] = [];
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
    windows.push({ window: { open, ...figures(deltas, cpuSeconds, (performance.now() - startedAt) / 1000) }, deltas, cpuSeconds });
    const tally = dashboards?.close();
    if (tally !== undefined) received = { viewers: tally.viewers, events: received.events + tally.events, connzPolls: received.connzPolls + tally.connzPolls, errors: received.errors + tally.errors };
  }
  const side = (open: boolean): DashboardSide => {
    const mine = windows.filter(({ window }) => window.open === open);
    const deltas = new Map<string, number>();
    for (const { deltas: each } of mine) for (const [key, value] of each) deltas.set(key, (deltas.get(key) ?? 0) + value);
    const all = figures(deltas, mine.reduce((sum, { cpuSeconds }) => sum + cpuSeconds, 0), mine.reduce((sum, { window }) => sum + window.seconds, 0));
    const late = histogramDelta(undefined, deltas, LATENESS);
    return {
      windows: mine.length,
      seconds: all.seconds,
      chunks: all.chunks,
      cpuUsPerChunk: all.cpuUsPerChunk,
      latenessMeanMs: all.latenessMeanMs,
      latenessMedianMs: median(mine.map(({ window }) => window.latenessMeanMs)),
      latenessP50Ms: late.p50 * 1000,
      latenessP99Ms: late.p99 * 1000,
    };
  };
  return { dashboards: count, windowSeconds, without: side(false), with: side(true), windows: windows.map(({ window }) => window), received };
}

/** The figures of the chunk counter and lateness histogram differences `deltas`, over `seconds` that used `cpuSeconds`. */
function figures(deltas: Metrics, cpuSeconds: number, seconds: number): Omit<DashboardWindow, 'open'> {
  const chunks = metricTotal(deltas, CHUNKS);
  const late = histogramDelta(undefined, deltas, LATENESS);
  const count = deltas.get(`${LATENESS}_count`) ?? 0;
  return {
    seconds: Math.round(seconds * 10) / 10,
    chunks,
    cpuUsPerChunk: chunks === 0 ? 0 : Math.round((cpuSeconds * 1e7) / chunks) / 10,
    latenessMeanMs: count === 0 ? 0 : Math.round(((deltas.get(`${LATENESS}_sum`) ?? 0) * 1e6) / count) / 1000,
    latenessP99Ms: late.p99 * 1000,
    latenessMaxMs: late.max * 1000,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length === 0 ? 0 : sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
