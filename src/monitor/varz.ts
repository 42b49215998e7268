import { sumStats } from '../server/snapshot.js';
import { KNOWN_TRANSPORTS, type Counts } from './figures.js';
import { findPackage } from './package-info.js';
import type { ProcessReading, Totals } from './probe.js';
import { addCounts } from './sampler.js';

/**
 * `/varz`: the whole server's totals as JSON, in the manner of NATS's `/varz`: what it is, since
 * when, every counter (each of the server's, by its snake_case name: `statistics_answers`,
 * `errors` by code, …), clients by transport, and the process's memory and CPU time.
 */
export interface Varz {
  readonly server: string;
  readonly version: string;
  readonly pid: number;
  readonly start: string;
  readonly now: string;
  readonly uptime_seconds: number;
  readonly ready: boolean;
  readonly workers: number;
  readonly worker_restarts: number;
  readonly transports: Counts;
  readonly rss_bytes: number;
  readonly heap_used_bytes: number;
  readonly cpu_seconds: number;
  readonly [counter: string]: unknown;
}

export interface VarzInput {
  readonly ready: boolean;
  readonly workers: number;
  readonly restarts: number;
  /** Each server process's totals: one, or one per worker. */
  readonly totals: readonly Totals[];
  /** With `--workers`, the primary's own process. */
  readonly own?: ProcessReading;
}

export function varzOf(input: VarzInput, now = Date.now()): Varz {
  const processes = [...input.totals.map((totals) => totals.process), ...(input.own === undefined ? [] : [input.own])];
  const sum = (read: (reading: ProcessReading) => number): number => processes.reduce((total, reading) => total + read(reading), 0);
  const stats = sumStats(input.totals.map((totals) => totals.stats));
  const counters = Object.fromEntries(Object.entries(stats).map(([name, value]) => [snakeCase(name), value]));
  return {
    server: 'multi-socket-server',
    version: VERSION,
    pid: process.pid,
    start: new Date(now - process.uptime() * 1000).toISOString(),
    now: new Date(now).toISOString(),
    uptime_seconds: Math.round(process.uptime()),
    ready: input.ready,
    workers: input.workers,
    worker_restarts: input.restarts,
    ...counters,
    transports: input.totals.reduce((all, totals) => addCounts(all, totals.transports), Object.fromEntries(KNOWN_TRANSPORTS.map((kind) => [kind, 0])) as Counts),
    rss_bytes: sum((reading) => reading.rssBytes),
    heap_used_bytes: sum((reading) => reading.heapUsedBytes),
    cpu_seconds: Math.round(sum((reading) => reading.cpuMicros) / 1000) / 1000,
  };
}

/** `statisticsAnswers` -> `statistics_answers`. */
function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

const VERSION = findPackage()?.version ?? 'unknown';
