import type { ServerEvent } from './events.js';

/** The server's counters: what it did, and every error by its stable code. */
export interface StatsSnapshot {
  readonly clients: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly closed: number;
  readonly chunks: number;
  readonly symbols: number;
  readonly statisticsAnswers: number;
  readonly blocked: number;
  /** Protocol errors and refusals by code (`ERR_HEADER_JSON`, `ERR_SERVER_FULL`, …). */
  readonly errors: Readonly<Record<string, number>>;
  /** Socket errors by system code (`ECONNRESET`, …). */
  readonly connectionErrors: Readonly<Record<string, number>>;
  readonly internalErrors: number;
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
  #accepted = 0;
  #rejected = 0;
  #closed = 0;
  #chunks = 0;
  #symbols = 0;
  #answers = 0;
  #blocked = 0;
  #internal = 0;
  readonly #errors = new Map<string, number>();
  readonly #connectionErrors = new Map<string, number>();
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
    this.#chunks++;
    this.#symbols += symbols;
    this.#latenessObserver?.(lateMs);
  }

  record(event: ServerEvent): void {
    switch (event.type) {
      case 'accepted':
        this.#accepted++;
        break;
      case 'rejected':
        this.#rejected++;
        bump(this.#errors, event.error.code);
        break;

      case 'statistics':
        this.#answers++;
        break;
      case 'protocol-error':
        bump(this.#errors, event.error.code);
        break;
      case 'connection-error':
        bump(this.#connectionErrors, event.error.code ?? 'unknown');
        break;
      case 'internal-error':
        this.#internal++;
        break;
      case 'blocked':
        this.#blocked++;
        break;
      case 'closed':
        this.#closed++;
        break;
      default:
        break;
    }
  }

  snapshot(clients: number): StatsSnapshot {
    return {
      clients,
      accepted: this.#accepted,
      rejected: this.#rejected,
      closed: this.#closed,
      chunks: this.#chunks,
      symbols: this.#symbols,
      statisticsAnswers: this.#answers,
      blocked: this.#blocked,
      errors: Object.fromEntries(this.#errors),
      connectionErrors: Object.fromEntries(this.#connectionErrors),
      internalErrors: this.#internal,
    };
  }
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
