/** What the server's counters say at one moment, and how several servers' add up. */

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
  /** Load balancers' health checks (PROXY v2 `LOCAL`), which are not clients. */
  healthChecks: 'count',
  /** Failed TLS handshakes by code (`ERR_SSL_WRONG_VERSION_NUMBER`, `ERR_TLS_HANDSHAKE_TIMEOUT`, …). */
  tlsErrors: 'byCode',
} as const satisfies Record<string, 'count' | 'byCode'>;

type Counters = typeof COUNTERS;
type CounterName = keyof Counters;
export type CountName = { [K in CounterName]: Counters[K] extends 'count' ? K : never }[CounterName];
export type ByCodeName = Exclude<CounterName, CountName>;
export type CountsByCode = Readonly<Record<string, number>>;
type CounterValues = { readonly [K in CounterName]: Counters[K] extends 'count' ? number : CountsByCode };

export const COUNTER_NAMES = Object.keys(COUNTERS) as CounterName[];
export const isCount = (name: CounterName): name is CountName => COUNTERS[name] === 'count';

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
export function snapshotOf(clients: number, count: (name: CountName) => number, byCode: (name: ByCodeName) => CountsByCode): StatsSnapshot {
  const snapshot: Record<string, number | CountsByCode> = { clients };
  for (const name of COUNTER_NAMES) snapshot[name] = isCount(name) ? count(name) : byCode(name);
  return snapshot as unknown as StatsSnapshot;
}

