/**
 * The JSON the monitor serves and the dashboard page reads: the figures of one second
 * (`/events`) and the connection listing (`/connz`). Types only, shared with the page's code.
 * Keys are snake_case, as in NATS's monitoring endpoints and the json output mode.
 */

export type Counts = Readonly<Record<string, number>>;

/** Per second, over the last second. */
export interface Rates {
  readonly accepted: number;
  readonly closed: number;
  /** Refused at the door (`ERR_SERVER_FULL`). */
  readonly rejected: number;
  readonly chunks: number;
  readonly symbols: number;
  readonly statistics_answers: number;
  /** Protocol errors, socket errors and internal errors together. */
  readonly errors: number;
}

/** Chunk lateness over the last minute, in ms: percentiles read from a histogram, the true maximum. */
export interface LatenessFigures {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Chunks in the minute. */
  readonly count: number;
}

export interface ProcessFigures {
  readonly rss_bytes: number;
  readonly heap_used_bytes: number;
  /** Of one core, over the last second. */
  readonly cpu_percent: number;
}

/** Every error so far, by its code. */
export interface ErrorFigures {
  /** Protocol errors and refusals (`ERR_HEADER_JSON`, `ERR_SERVER_FULL`, …). */
  readonly protocol: Counts;
  /** Socket errors (`ECONNRESET`, …). */
  readonly socket: Counts;
  /** Connections dropped by a fault of the server. */
  readonly internal: number;
}

/** One worker of `--workers N`. */
export interface WorkerFigures {
  /** Its slot, 1..N. */
  readonly worker: number;
  readonly pid: number;
  readonly clients: number;
  readonly transports: Counts;
  readonly per_second: Rates;
  readonly lateness_ms: LatenessFigures;
  readonly process: ProcessFigures;
}

/** One second of the whole server: one `/events` event. */
export interface Figures {
  /** Counts the samples from 1: the SSE event id. */
  readonly seq: number;
  /** When it was taken, in ms since the epoch. */
  readonly time: number;
  readonly uptime_seconds: number;
  /** Whether the server accepts clients (what `/readyz` says). */
  readonly ready: boolean;
  readonly clients: number;
  /** Clients by what carries them: `tcp`, `ws`, …; the first two always there. */
  readonly transports: Counts;
  readonly per_second: Rates;
  readonly lateness_ms: LatenessFigures;
  readonly errors: ErrorFigures;
  /** The whole server's process (with `--workers`, every worker's and the primary's added up). */
  readonly process: ProcessFigures;
  /** With `--workers`, each worker; null for a single process. */
  readonly workers: readonly WorkerFigures[] | null;
}

/** One connection in `/connz`: NATS's field names where the idea is the same. */
export interface ConnzEntry {
  readonly cid: number;
  /** With `--workers`, the worker serving it (connection ids count per worker). */
  readonly worker?: number;
  readonly transport: string;
  readonly ip: string;
  readonly port: number;
  /** When it was accepted (ISO 8601). */
  readonly start: string;
  /** How long it has been connected, as `1h2m3s`. */
  readonly uptime: string;
  readonly chunks: number;
  readonly symbols: number;
  /** What its next statistics answer will say. */
  readonly symbols_since_answer: number;
  /** Bytes queued for it, not yet handed to the network. */
  readonly pending_bytes: number;
  /** Whether its buffer is full: its chunks wait and its requests are not read. */
  readonly blocked: boolean;
  readonly in_bytes: number;
  readonly out_bytes: number;
}

export interface Connz {
  readonly now: string;
  /** Entries on this page. */
  readonly num_connections: number;
  /** Connections open now. */
  readonly total: number;
  readonly offset: number;
  readonly limit: number;
  readonly sort: string;
  readonly connections: readonly ConnzEntry[];
}

/** Transports always shown, connected or not. */
export const KNOWN_TRANSPORTS = ['tcp', 'ws'] as const;
