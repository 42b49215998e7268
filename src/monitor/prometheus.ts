import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RunningServer } from '../server/server.js';
import { LATENESS_BOUNDS_MS } from './lateness.js';

/**
 * Lateness buckets in seconds. Cumulative bucket counts can be subtracted between two scrapes,
 * which is how the benchmark gets the figures of its hold phase alone.
 */
const LATENESS_BUCKETS = LATENESS_BOUNDS_MS.map((ms) => ms / 1000);

/** What the registry reads: the server's counters and its lateness, as it happens. */
export type MetricsSource = Pick<RunningServer, 'stats' | 'clients' | 'onLateness'>;

/**
 * The server's counters in Prometheus form, with Node's process metrics (CPU, RSS, heap,
 * handles, event-loop lag). Counts are read from ServerStats when scraped, so the hot path
 * only ever bumps plain numbers; lateness is the one histogram fed per chunk.
 */
export function createMetrics(server: MetricsSource): Registry {
  const registry = new Registry();
  // Fine GC buckets: a pause of a few milliseconds is what shows up as chunk lateness.
  collectDefaultMetrics({ register: registry, gcDurationBuckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1] });
  // These walk every handle (or every open file) on each scrape: with 19,000 clients that
  // stalls the event loop for tens of milliseconds, and every chunk due meanwhile is late.
  for (const costly of ['nodejs_active_handles', 'nodejs_active_handles_total', 'nodejs_active_resources', 'nodejs_active_resources_total', 'process_open_fds']) {
    registry.removeSingleMetric(costly);
  }
  new Gauge({
    name: 'multi_socket_active_resources',
    help: 'Live libuv handles, requests and timers of the process: back to its baseline once the clients have gone, or something leaked.',
    registers: [registry],
    collect() {
      this.set(process.getActiveResourcesInfo().length);
    },
  });
  const total = (name: string, help: string, read: () => number): void => {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  };
  new Gauge({ name: 'multi_socket_clients', help: 'Connections being served.', registers: [registry], collect() {
    this.set(server.clients);
  } });
  total('multi_socket_accepted_total', 'Connections accepted.', () => server.stats().accepted);
  total('multi_socket_closed_total', 'Connections closed.', () => server.stats().closed);
  total('multi_socket_chunks_total', 'Chunks sent.', () => server.stats().chunks);
  total('multi_socket_symbols_total', 'Symbols sent.', () => server.stats().symbols);
  total('multi_socket_statistics_answers_total', 'Statistics requests answered.', () => server.stats().statisticsAnswers);
  total('multi_socket_blocked_total', 'Times a client left its buffer full and its chunks waited.', () => server.stats().blocked);
  total('multi_socket_internal_errors_total', 'Connections dropped by a fault of the server.', () => server.stats().internalErrors);
  total('multi_socket_health_checks_total', 'Load balancer health checks (PROXY v2 LOCAL), which are not clients.', () => server.stats().healthChecks);
  const byCode = (name: string, help: string, read: () => Readonly<Record<string, number>>): void => {
    new Counter({
      name,
      help,
      labelNames: ['code'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [code, count] of Object.entries(read())) this.inc({ code }, count);
      },
    });
  };
  byCode('multi_socket_protocol_errors_total', 'Connections refused or closed for breaking the protocol or a limit, by error code.', () => server.stats().errors);
  byCode('multi_socket_socket_errors_total', 'Socket errors, by system error code.', () => server.stats().connectionErrors);
  byCode('multi_socket_tls_errors_total', 'Failed TLS handshakes, by error code.', () => server.stats().tlsErrors);
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) {
    // Only with node --expose-gc: a soak test's leak detector, too costly for every scrape otherwise.
    new Gauge({ name: 'multi_socket_heap_after_gc_bytes', help: 'Heap in use right after a full garbage collection.', registers: [registry], collect() {
      gc();
      this.set(process.memoryUsage().heapUsed);
    } });
  }
  const lateness = new Histogram({
    name: 'multi_socket_chunk_lateness_seconds',
    help: 'How long after its scheduled time each chunk was written.',
    buckets: LATENESS_BUCKETS,
    registers: [registry],
  });
  server.onLateness((ms) => lateness.observe(ms / 1000));
  return registry;
}
