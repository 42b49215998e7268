import type { ServerEvent } from './events.js';
import { COUNTER_NAMES, isCount, snapshotOf, type ByCodeName, type CountName, type ProcessSnapshot, type StatsSnapshot } from './snapshot.js';

/**
 * Counts what the server emits. It watches the event stream rather than living inside the
 * session, so every counter is kept in one place and the hot path has no extra bookkeeping.
 */
export class ServerStats {
  readonly #counts = Object.fromEntries(COUNTER_NAMES.filter(isCount).map((name) => [name, 0])) as Record<CountName, number>;
  readonly #byCode = Object.fromEntries(COUNTER_NAMES.filter((name) => !isCount(name)).map((name) => [name, new Map()])) as Record<ByCodeName, Map<string, number>>;
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
      case 'health-check':
        this.#counts.healthChecks++;
        break;
      case 'tls-error':
        bump(this.#byCode.tlsErrors, event.error.code);
        break;
      default:
        break;
    }
  }

  snapshot(clients: number): StatsSnapshot {
    return snapshotOf(clients, (name) => this.#counts[name], (name) => Object.fromEntries(this.#byCode[name]));
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
