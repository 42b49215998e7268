import type { MonitoredConnection } from '../server/monitoring.js';
import type { RunningServer } from '../server/server.js';
import type { StatsSnapshot } from '../server/snapshot.js';
import { LatenessHistogram, type LatenessCounts } from './lateness.js';

/** A process's own figures at one moment. */
export interface ProcessReading {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** CPU time used so far, user and system, in microseconds. */
  readonly cpuMicros: number;
}

/** One server process's totals at one moment: what `/varz` adds up. */
export interface Totals {
  readonly stats: StatsSnapshot;
  readonly transports: Readonly<Record<string, number>>;
  readonly process: ProcessReading;
}

/** Totals, and how late its chunks were since the previous reading: what the sampler takes once a second. */
export interface Reading extends Totals {
  readonly lateness: LatenessCounts;
}

export type ProbedServer = Pick<RunningServer, 'stats' | 'connections' | 'onLateness'>;

/**
 * Reads one server process (the single server, or one worker). Every chunk's lateness goes
 * into a histogram of plain counts; the rest is read when asked, never kept up to date.
 */
export class Probe {
  readonly #server: ProbedServer;
  readonly #lateness = new LatenessHistogram();

  constructor(server: ProbedServer) {
    this.#server = server;
    const lateness = this.#lateness;
    server.onLateness((ms) => lateness.observe(ms));
  }

  totals(): Totals {
    return { stats: this.#server.stats(), transports: countTransports(this.#server.connections()), process: processReading() };
  }

  /** The totals and the lateness since the last read(): for the one sampler only. */
  read(): Reading {
    return { ...this.totals(), lateness: this.#lateness.take() };
  }
}

/** Connections by transport kind: a walk that reads one field of each, once a second. */
export function countTransports(connections: Iterable<MonitoredConnection>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const connection of connections) {
    const kind = connection.transport.kind;
    counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

export function processReading(): ProcessReading {
  const memory = process.memoryUsage();
  const cpu = process.cpuUsage();
  return { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, cpuMicros: cpu.user + cpu.system };
}
