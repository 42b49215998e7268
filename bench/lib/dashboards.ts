import { Agent, get, type ClientRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { histogramDelta, metricTotal, type Metrics, type ServerProcess } from './server-process.js';

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

  /** Opens `count` dashboards on the monitor at `base` (`http://host:port`); resolves once each has its first events. */
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
        response.on('data', (chunk: string) => {
          for (let at = chunk.indexOf('\n'); at !== -1; at = chunk.indexOf('\n', at + 1)) {
            if (at === 0 ? endedWithNewline : chunk[at - 1] === '\n') {
              if (blocks++ > 0) this.#events++;
            }
          }
          endedWithNewline = chunk.endsWith('\n');
          if (blocks > 1) resolve();
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

/** One side of the comparison: the windows without dashboards, or those with them open. */
export interface DashboardSide {
  readonly windows: number;
  readonly seconds: number;
  readonly chunks: number;
  readonly cpuUsPerChunk: number;
  /** Exact, from the histogram's sum and count. */
  readonly latenessMeanMs: number;
  /** Bucket bounds. */
  readonly latenessP50Ms: number;
  readonly latenessP99Ms: number;
}

export interface DashboardComparison {
  readonly dashboards: number;
  readonly windowSeconds: number;
  readonly without: DashboardSide;
  readonly with: DashboardSide;
  readonly received: DashboardTally;
}

const LATENESS = 'multi_socket_chunk_lateness_seconds';

/**
 * What `count` dashboards cost a loaded server, measured on the same server and clients:
 * windows of up to `longestWindowSeconds` without them and with them open, in the order without, with,
 * with, without, without, with… (so that a drift of the machine over the run weighs on both
 * sides alike), for `seconds` in all. Each side adds up its windows' CPU time, chunks and
 * lateness histogram.
 */
export async function compareDashboards(server: ServerProcess, base: string, count: number, seconds: number, longestWindowSeconds = 10): Promise<DashboardComparison> {
  // Two windows at least, one of each.
  const windowSeconds = Math.min(longestWindowSeconds, seconds / 2);
  const windows = Math.floor(seconds / windowSeconds);
  const sides = [new SideTally(), new SideTally()];
  let received: DashboardTally = { viewers: 0, events: 0, connzPolls: 0, errors: 0 };
  for (let window = 0; window < windows; window++) {
    const open = ((window + 1) >> 1) % 2 === 1;
    // Open before the window starts: it measures them open, not opening.
    const dashboards = open ? await Dashboards.open(base, count) : undefined;
    const before = await server.metrics();
    const cpuBefore = server.cpuSeconds();
    const startedAt = performance.now();
    await new Promise((resolve) => setTimeout(resolve, windowSeconds * 1000));
    const after = await server.metrics();
    sides[open ? 1 : 0]?.add(before, after, server.cpuSeconds() - cpuBefore, (performance.now() - startedAt) / 1000);
    const tally = dashboards?.close();
    if (tally !== undefined) received = { viewers: tally.viewers, events: received.events + tally.events, connzPolls: received.connzPolls + tally.connzPolls, errors: received.errors + tally.errors };
  }
  return { dashboards: count, windowSeconds, without: (sides[0] as SideTally).side(), with: (sides[1] as SideTally).side(), received };
}

class SideTally {
  windows = 0;
  seconds = 0;
  cpuSeconds = 0;
  /** Differences of the chunk counter and of the lateness histogram's series, summed over the windows. */
  readonly deltas = new Map<string, number>();

  add(before: Metrics, after: Metrics, cpuSeconds: number, seconds: number): void {
    this.windows++;
    this.seconds += seconds;
    this.cpuSeconds += cpuSeconds;
    for (const [key, value] of after) {
      if (key !== 'multi_socket_chunks_total' && !key.startsWith(LATENESS)) continue;
      this.deltas.set(key, (this.deltas.get(key) ?? 0) + value - (before.get(key) ?? 0));
    }
  }

  side(): DashboardSide {
    const chunks = metricTotal(this.deltas, 'multi_socket_chunks_total');
    const late = histogramDelta(undefined, this.deltas, LATENESS);
    const count = this.deltas.get(`${LATENESS}_count`) ?? 0;
    return {
      windows: this.windows,
      seconds: Math.round(this.seconds * 10) / 10,
      chunks,
      cpuUsPerChunk: chunks === 0 ? 0 : Math.round((this.cpuSeconds * 1e7) / chunks) / 10,
      latenessMeanMs: count === 0 ? 0 : Math.round(((this.deltas.get(`${LATENESS}_sum`) ?? 0) * 1e6) / count) / 1000,
      latenessP50Ms: late.p50 * 1000,
      latenessP99Ms: late.p99 * 1000,
    };
  }
}
