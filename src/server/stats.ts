import type { ServerEvent } from './events.js';

/**
 * Every counter of the server, in the order a snapshot (and so a json `stats` line) lists them:
 * a plain count, or a count per code. A counter added here is in the snapshot, the stats lines
 * and the sum across workers; record() or chunkSent() says what bumps it.
 */
const COUNTERS = {
  accepted: 'count',
  rejected: 'count',
  closed: 'count',
  chunks: 'count',
  symbols: 'count',
  statisticsAnswers: 'count',
  blocked: 'count',
  /** Protocol errors and refusals by code (`ERR_HEADER_JSON`, `ERR_SERVER_FULL`, …). */
  errors: 'byCode',
  /** Socket errors by system code (`ECONNRESET`, …). */
  connectionErrors: 'byCode',
  internalErrors: 'count',
} as const satisfies Record<string, 'count' | 'byCode'>;

type Counters = typeof COUNTERS;
type CounterName = keyof Counters;
type CountName = { [K in CounterName]: Counters[K] extends 'count' ? K : never }[CounterName];
type ByCodeName = Exclude<CounterName, CountName>;
type CountsByCode = Readonly<Record<string, number>>;
type CounterValues = { readonly [K in CounterName]: Counters[K] extends 'count' ? number : CountsByCode };

const NAMES = Object.keys(COUNTERS) as CounterName[];
const isCount = (name: CounterName): name is CountName => COUNTERS[name] === 'count';

/** The server's counters: what it did, and every error by its stable code. */
export interface StatsSnapshot extends CounterValues {
  /** Connections open when the snapshot was taken: a level, not a count. */
  readonly clients: number;
}

/** Process figures that show whether anything is left behind or grows. */
export interface ProcessSnapshot {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** Set when the process runs with --expose-gc: heap in use right after a full collection. */
  readonly heapAfterGcBytes: number | undefined;
  /** Live handles and requests by kind (`TCPSocketWrap`, `Timeout`, …). */
  readonly resources: Readonly<Record<string, number>>;
}

/**
 * Counts what the server emits. It watches the event stream rather than living inside the
 * session, so every counter is kept in one place and the hot path has no extra bookkeeping.
 */
export class ServerStats {
  readonly #counts = Object.fromEntries(NAMES.filter(isCount).map((name) => [name, 0])) as Record<CountName, number>;
  readonly #byCode = Object.fromEntries(NAMES.filter((name) => !isCount(name)).map((name) => [name, new Map()])) as Record<ByCodeName, Map<string, number>>;
  #latenessObserver: ((ms: number) => void) | undefined;

  /** Sees the lateness of every chunk (only when someone wants it: it is per chunk). */
  onLateness(observer: (ms: number) => void): void {
    this.#latenessObserver = observer;
  }

  /**
   * A chunk was written. Called by the session itself rather than through an event, since
   * chunks are most of what a server does and their events are built only when shown.
   */
  chunkSent(symbols: number, lateMs: number): void {
    this.#counts.chunks++;
    this.#counts.symbols += symbols;
    this.#latenessObserver?.(lateMs);
  }

  record(event: ServerEvent): void {
    switch (event.type) {
      case 'accepted':
        this.#counts.accepted++;
        break;
      case 'rejected':
        this.#counts.rejected++;
        bump(this.#byCode.errors, event.error.code);
        break;
      case 'statistics':
        this.#counts.statisticsAnswers++;
        break;
      case 'protocol-error':
        bump(this.#byCode.errors, event.error.code);
        break;
      case 'connection-error':
        bump(this.#byCode.connectionErrors, event.error.code ?? 'unknown');
        break;
      case 'internal-error':
        this.#counts.internalErrors++;
        break;
      case 'blocked':
        this.#counts.blocked++;
        break;
      case 'closed':
        this.#counts.closed++;
        break;
      default:
        break;
    }
  }

  snapshot(clients: number): StatsSnapshot {
    return snapshotOf(clients, (name) => this.#counts[name], (name) => Object.fromEntries(this.#byCode[name]));
  }
}

/** The sum of several servers' snapshots (the workers of one cluster); of none, all zero. */
export function sumStats(snapshots: readonly StatsSnapshot[]): StatsSnapshot {
  const total = (read: (snapshot: StatsSnapshot) => number): number => snapshots.reduce((sum, snapshot) => sum + read(snapshot), 0);
  return snapshotOf(
    total((snapshot) => snapshot.clients),
    (name) => total((snapshot) => snapshot[name]),
    (name) => {
      const sum: Record<string, number> = {};
      for (const snapshot of snapshots) {
        for (const [code, count] of Object.entries(snapshot[name])) sum[code] = (sum[code] ?? 0) + count;
      }
      return sum;
    },
  );
}

/** A snapshot whose counters, in COUNTERS' order, are read by `count` and `byCode`. */
function snapshotOf(clients: number, count: (name: CountName) => number, byCode: (name: ByCodeName) => CountsByCode): StatsSnapshot {
  const snapshot: Record<string, number | CountsByCode> = { clients };
  for (const name of NAMES) snapshot[name] = isCount(name) ? count(name) : byCode(name);
  return snapshot as unknown as StatsSnapshot;
}

function bump(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

export function processSnapshot(): ProcessSnapshot {
  const gc = (globalThis as { gc?: () => void }).gc;
  let heapAfterGcBytes: number | undefined;
  if (gc !== undefined) {
    gc();
    heapAfterGcBytes = process.memoryUsage().heapUsed;
  }
  const memory = process.memoryUsage();
  const resources: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) resources[kind] = (resources[kind] ?? 0) + 1;
  return { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, heapAfterGcBytes, resources };
}
