import { performance } from 'node:perf_hooks';
import type { StatsSnapshot } from '../server/snapshot.js';
import { KNOWN_TRANSPORTS, type Counts, type Figures, type LatenessFigures, type ProcessFigures, type Rates, type WorkerFigures } from './figures.js';
import { LatenessHistogram, LatenessWindow, type LatenessSummary } from './lateness.js';
import type { ProcessReading, Reading } from './probe.js';

/** How often the figures are taken. */
export const SAMPLE_INTERVAL_MS = 1_000;
/** A worker not heard from for this many samples is forgotten (it died, or was replaced). */
const FORGET_AFTER_SAMPLES = 10;

/** One server process's reading: the single server, or one worker (`worker` set). */
export interface MemberReading {
  /** Stable for the life of the process (a replaced worker gets a new one): a worker's pid. */
  readonly key: string;
  readonly worker?: { readonly slot: number; readonly pid: number };
  readonly reading: Reading;
}

export interface SamplerSource {
  /** Whether the server accepts clients. */
  ready(): boolean;
  /** Every server process's reading; with `--workers`, a worker that did not answer is missing. */
  read(): MemberReading[] | Promise<MemberReading[]>;
  /** With `--workers`, the primary's own process, added to the whole server's figures. */
  own?(): ProcessReading;
}

interface MemberState {
  previous: Reading;
  at: number;
  seenAt: number;
  readonly window: LatenessWindow;
}

/**
 * Takes the figures once a second for everyone who watches: one reading of the server (of every
 * worker, over the cluster's channel), turned into rates against the previous one and into
 * lateness over the last minute from a ring of one-second histograms, then handed to every
 * listener (the SSE stream serializes it once for all its viewers). Nothing here is done per
 * viewer or per request.
 */
export class Sampler {
  readonly #source: SamplerSource;
  readonly #members = new Map<string, MemberState>();
  readonly #whole = new LatenessWindow();
  readonly #listeners = new Set<(figures: Figures) => void>();
  #own: { at: number; cpuMicros: number } | undefined;
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;
  #busy = false;
  #latest: Figures | undefined;
  readonly #clock: () => number;

  /** `clock`: ms, for the time between two samples (a test's own). */
  constructor(source: SamplerSource, clock: () => number = () => performance.now()) {
    this.#source = source;
    this.#clock = clock;
  }

  get latest(): Figures | undefined {
    return this.#latest;
  }

  start(intervalMs = SAMPLE_INTERVAL_MS): void {
    this.#timer = setInterval(() => void this.tick(), intervalMs);
    // The monitor never keeps the process up: the server decides when it is done.
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  onFigures(listener: (figures: Figures) => void): void {
    this.#listeners.add(listener);
  }

  /** Takes one sample; one at a time (a cluster's slow answer skips a tick rather than piling up). */
  async tick(): Promise<Figures | undefined> {
    if (this.#busy) return undefined;
    this.#busy = true;
    try {
      const members = await this.#source.read();
      const figures = this.#figures(members, this.#clock());
      this.#latest = figures;
      for (const listener of this.#listeners) listener(figures);
      return figures;
    } finally {
      this.#busy = false;
    }
  }

  #figures(members: readonly MemberReading[], now: number): Figures {
    const seq = ++this.#seq;
    const second = new LatenessHistogram();
    const workers: WorkerFigures[] = [];
    let whole: Summed = emptySum();
    for (const member of members) {
      const { reading } = member;
      const state = this.#members.get(member.key);
      const seconds = state === undefined ? 0 : (now - state.at) / 1000;
      // A worker's first reading has nothing to be compared with: its rates start at the next.
      const rates = state === undefined || seconds <= 0 ? ZERO_RATES : ratesBetween(state.previous.stats, reading.stats, seconds);
      const cpuPercent = state === undefined || seconds <= 0 ? 0 : cpuPercentBetween(state.previous.process.cpuMicros, reading.process.cpuMicros, seconds);
      const window = state?.window ?? new LatenessWindow();
      window.push(reading.lateness);
      this.#members.set(member.key, { previous: reading, at: now, seenAt: seq, window });
      second.add(reading.lateness);
      const processFigures = { rss_bytes: reading.process.rssBytes, heap_used_bytes: reading.process.heapUsedBytes, cpu_percent: round(cpuPercent) };
      whole = addUp(whole, reading, rates, processFigures);
      if (member.worker !== undefined) {
        workers.push({
          worker: member.worker.slot,
          pid: member.worker.pid,
          clients: reading.stats.clients,
          transports: withKnownTransports(reading.transports),
          per_second: rates,
          lateness_ms: latenessFigures(window.summary()),
          process: processFigures,
        });
      }
    }
    for (const [key, state] of this.#members) {
      if (seq - state.seenAt >= FORGET_AFTER_SAMPLES) this.#members.delete(key);
    }
    this.#whole.push(second.take());
    const own = this.#ownFigures(now);
    if (own !== undefined) whole = { ...whole, rss: whole.rss + own.rss_bytes, heap: whole.heap + own.heap_used_bytes, cpu: whole.cpu + own.cpu_percent };
    workers.sort((a, b) => a.worker - b.worker);
    return {
      seq,
      time: Date.now(),
      uptime_seconds: Math.round(process.uptime()),
      ready: this.#source.ready(),
      clients: whole.clients,
      transports: withKnownTransports(whole.transports),
      per_second: roundRates(whole.rates),
      lateness_ms: latenessFigures(this.#whole.summary()),
      errors: { protocol: whole.protocol, socket: whole.socket, internal: whole.internal },
      process: { rss_bytes: whole.rss, heap_used_bytes: whole.heap, cpu_percent: round(whole.cpu) },
      workers: this.#source.own === undefined ? null : workers,
    };
  }

  /** The primary's own process, with `--workers`. */
  #ownFigures(now: number): ProcessFigures | undefined {
    const reading = this.#source.own?.();
    if (reading === undefined) return undefined;
    const previous = this.#own;
    this.#own = { at: now, cpuMicros: reading.cpuMicros };
    const cpu = previous === undefined ? 0 : cpuPercentBetween(previous.cpuMicros, reading.cpuMicros, (now - previous.at) / 1000);
    return { rss_bytes: reading.rssBytes, heap_used_bytes: reading.heapUsedBytes, cpu_percent: cpu };
  }
}

const ZERO_RATES: Rates = { accepted: 0, closed: 0, rejected: 0, chunks: 0, symbols: 0, statistics_answers: 0, errors: 0 };
const RATE_NAMES = Object.keys(ZERO_RATES) as (keyof Rates)[];

function mapRates(value: (name: keyof Rates) => number): Rates {
  return Object.fromEntries(RATE_NAMES.map((name) => [name, value(name)])) as unknown as Rates;
}

/**
 * Per second between two readings of one process. Counters only grow within a process (a
 * replaced worker is another process, with another key), so a difference is never negative.
 */
export function ratesBetween(before: StatsSnapshot, after: StatsSnapshot, seconds: number): Rates {
  const rate = (read: (stats: StatsSnapshot) => number): number => round(Math.max(0, read(after) - read(before)) / seconds);
  return {
    accepted: rate((s) => s.accepted),
    closed: rate((s) => s.closed),
    rejected: rate((s) => s.rejected),
    chunks: rate((s) => s.chunks),
    symbols: rate((s) => s.symbols),
    statistics_answers: rate((s) => s.statisticsAnswers),
    errors: rate(errorTotal),
  };
}

function errorTotal(stats: StatsSnapshot): number {
  const sum = (counts: Counts): number => Object.values(counts).reduce((total, count) => total + count, 0);
  return sum(stats.errors) + sum(stats.connectionErrors) + stats.internalErrors;
}

function cpuPercentBetween(beforeMicros: number, afterMicros: number, seconds: number): number {
  return seconds <= 0 ? 0 : Math.max(0, afterMicros - beforeMicros) / (seconds * 10_000);
}

interface Summed {
  readonly clients: number;
  readonly transports: Counts;
  readonly rates: Rates;
  readonly protocol: Counts;
  readonly socket: Counts;
  readonly internal: number;
  readonly rss: number;
  readonly heap: number;
  readonly cpu: number;
}

function emptySum(): Summed {
  return { clients: 0, transports: {}, rates: ZERO_RATES, protocol: {}, socket: {}, internal: 0, rss: 0, heap: 0, cpu: 0 };
}

function addUp(sum: Summed, reading: Reading, rates: Rates, process: ProcessFigures): Summed {
  const { stats } = reading;
  return {
    clients: sum.clients + stats.clients,
    transports: addCounts(sum.transports, reading.transports),
    rates: mapRates((name) => sum.rates[name] + rates[name]),
    protocol: addCounts(sum.protocol, stats.errors),
    socket: addCounts(sum.socket, stats.connectionErrors),
    internal: sum.internal + stats.internalErrors,
    rss: sum.rss + process.rss_bytes,
    heap: sum.heap + process.heap_used_bytes,
    cpu: sum.cpu + process.cpu_percent,
  };
}

export function addCounts(a: Counts, b: Counts): Counts {
  const sum: Record<string, number> = { ...a };
  for (const [key, count] of Object.entries(b)) sum[key] = (sum[key] ?? 0) + count;
  return sum;
}

function withKnownTransports(transports: Counts): Counts {
  return { ...Object.fromEntries(KNOWN_TRANSPORTS.map((kind) => [kind, 0])), ...transports };
}

function latenessFigures(summary: LatenessSummary): LatenessFigures {
  return { p50: round(summary.p50, 3), p99: round(summary.p99, 3), max: round(summary.max, 3), count: summary.count };
}

function roundRates(rates: Rates): Rates {
  return mapRates((name) => round(rates[name]));
}

function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
