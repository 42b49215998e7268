import type { ConnectionSnapshot, MonitoredConnection } from '../server/monitoring.js';
import type { Connz, ConnzEntry } from './figures.js';

/**
 * `/connz`: the connections, paged and sorted as NATS's `/connz` does it: `offset` (from 0),
 * `limit` (default 1024), `sort` by one field, ascending for `cid` and `start`, descending for
 * every other (the biggest first; `uptime`, the longest connected first), ties by `cid`.
 */

export const DEFAULT_LIMIT = 1024;
/** A bigger page than this is refused: it would hold the event loop while it is built. */
export const MAX_LIMIT = 10_000;

type Key = (connection: ConnectionSnapshot) => number;

/** Each sort, its key and its direction. */
const SORTS = {
  cid: { key: (c) => c.id, descending: false },
  start: { key: (c) => c.connectedAt, descending: false },
  uptime: { key: (c) => c.connectedAt, descending: false },
  chunks: { key: (c) => c.chunks, descending: true },
  symbols: { key: (c) => c.symbols, descending: true },
  symbols_since_answer: { key: (c) => c.symbolsSinceAnswer, descending: true },
  pending: { key: (c) => c.queuedBytes, descending: true },
  bytes_to: { key: (c) => c.bytesWritten, descending: true },
  bytes_from: { key: (c) => c.bytesRead, descending: true },
} as const satisfies Record<string, { key: Key; descending: boolean }>;

export type ConnzSort = keyof typeof SORTS;
export const CONNZ_SORTS = Object.keys(SORTS) as ConnzSort[];

export interface ConnzQuery {
  readonly offset: number;
  readonly limit: number;
  readonly sort: ConnzSort;
}

/** The query of a `/connz` request, or what is wrong with it (a 400). */
export function parseConnzQuery(params: URLSearchParams): ConnzQuery | { readonly error: string } {
  const number = (name: string, fallback: number, max: number): number | string => {
    const text = params.get(name);
    if (text === null || text === '') return fallback;
    if (!/^\d+$/.test(text) || Number(text) > max) return `${name} must be a whole number from 0 to ${max}, not '${text}'`;
    return Number(text);
  };
  const offset = number('offset', 0, Number.MAX_SAFE_INTEGER);
  const limit = number('limit', DEFAULT_LIMIT, MAX_LIMIT);
  const sort = params.get('sort') ?? 'cid';
  if (typeof offset === 'string') return { error: offset };
  if (typeof limit === 'string') return { error: limit };
  if (!isSort(sort)) return { error: `sort must be one of ${CONNZ_SORTS.join(', ')}, not '${sort}'` };
  return { offset, limit, sort };
}

function isSort(sort: string): sort is ConnzSort {
  return Object.hasOwn(SORTS, sort);
}

/** A connection with the worker that serves it, with `--workers`. */
export type Listed = ConnectionSnapshot & { readonly worker?: number };

/** Orders two connections by the sort, ties by worker then id: the same order on every worker and in the merge. */
export function comparer(sort: ConnzSort): (a: Listed, b: Listed) => number {
  const { key, descending } = SORTS[sort];
  return (a, b) => (descending ? key(b) - key(a) : key(a) - key(b)) || (a.worker ?? 0) - (b.worker ?? 0) || a.id - b.id;
}

/**
 * One page of `connections` (the server's `total`, oldest first). Ascending by accept order
 * (`cid`, `start`, `uptime`) is the order they come in: the walk stops at the end of the page,
 * and only the page is described. Any other sort describes each once and keeps the best
 * `offset + limit` as it goes, never sorting them all.
 */
export function selectConnections(connections: Iterable<MonitoredConnection>, total: number, query: ConnzQuery): { total: number; page: ConnectionSnapshot[] } {
  const wanted = query.offset + query.limit;
  if (!SORTS[query.sort].descending) {
    const page: ConnectionSnapshot[] = [];
    let index = 0;
    for (const connection of connections) {
      if (index >= wanted) break;
      if (index++ >= query.offset) page.push(connection.describe());
    }
    return { total, page };
  }
  if (wanted === 0) return { total, page: [] };
  const compare = comparer(query.sort);
  const best: ConnectionSnapshot[] = [];
  for (const connection of connections) {
    const snapshot = connection.describe();
    if (best.length === wanted && compare(snapshot, best[wanted - 1] as ConnectionSnapshot) >= 0) continue;
    insertSorted(best, snapshot, compare);
    if (best.length > wanted) best.pop();
  }
  return { total, page: best.slice(query.offset) };
}

/** Merges the workers' pages (each the first `offset + limit` of its own, in order) into the whole server's page. */
export function mergePages(pages: readonly { readonly worker: number; readonly total: number; readonly page: readonly ConnectionSnapshot[] }[], query: ConnzQuery): { total: number; page: Listed[] } {
  const all: Listed[] = pages.flatMap(({ worker, page }) => page.map((connection) => ({ ...connection, worker })));
  all.sort(comparer(query.sort));
  return { total: pages.reduce((sum, { total }) => sum + total, 0), page: all.slice(query.offset, query.offset + query.limit) };
}

export function connzOf(selected: { total: number; page: readonly Listed[] }, query: ConnzQuery, now = Date.now()): Connz {
  return {
    now: new Date(now).toISOString(),
    num_connections: selected.page.length,
    total: selected.total,
    offset: query.offset,
    limit: query.limit,
    sort: query.sort,
    connections: selected.page.map((connection) => entryOf(connection, now)),
  };
}

function entryOf(c: Listed, now: number): ConnzEntry {
  return {
    cid: c.id,
    ...(c.worker === undefined ? {} : { worker: c.worker }),
    transport: c.transport,
    ip: c.host,
    port: c.port,
    start: new Date(c.connectedAt).toISOString(),
    uptime: duration(now - c.connectedAt),
    chunks: c.chunks,
    symbols: c.symbols,
    symbols_since_answer: c.symbolsSinceAnswer,
    pending_bytes: c.queuedBytes,
    blocked: c.blocked,
    in_bytes: c.bytesRead,
    out_bytes: c.bytesWritten,
  };
}

/** `1h2m3s`, as NATS writes an uptime (`0s` under a second). */
export function duration(ms: number): string {
  let seconds = Math.max(0, Math.floor(ms / 1000));
  const days = Math.floor(seconds / 86_400);
  seconds -= days * 86_400;
  const hours = Math.floor(seconds / 3600);
  seconds -= hours * 3600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  const parts = [days > 0 ? `${days}d` : '', hours > 0 ? `${hours}h` : '', minutes > 0 ? `${minutes}m` : ''];
  return `${parts.join('')}${seconds}s`;
}

function insertSorted<T>(sorted: T[], item: T, compare: (a: T, b: T) => number): void {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compare(sorted[middle] as T, item) <= 0) low = middle + 1;
    else high = middle;
  }
  sorted.splice(low, 0, item);
}
