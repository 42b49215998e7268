import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ServerStats } from './stats.js';

/**
 * Lateness buckets in seconds: fine below 5 ms, where the schedule is meant to be, coarse
 * beyond. Cumulative bucket counts can be subtracted between two scrapes, which is how the
 * benchmark gets the figures of its hold phase alone.
 */
const LATENESS_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1,
  0.25, 0.5, 1, 2.5, 5,
];

/**
 * The server's counters in Prometheus form, with Node's process metrics (CPU, RSS, heap,
 * handles, event-loop lag). Counts are read from ServerStats when scraped, so the hot path
 * only ever bumps plain numbers; lateness is the one histogram fed per chunk.
 */
export function createMetrics(stats: ServerStats, clients: () => number): Registry {
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
    this.set(clients());
  } });
  total('multi_socket_accepted_total', 'Connections accepted.', () => stats.snapshot(0).accepted);
  total('multi_socket_closed_total', 'Connections closed.', () => stats.snapshot(0).closed);
  total('multi_socket_chunks_total', 'Chunks sent.', () => stats.snapshot(0).chunks);
  total('multi_socket_symbols_total', 'Symbols sent.', () => stats.snapshot(0).symbols);
  total('multi_socket_statistics_answers_total', 'Statistics requests answered.', () => stats.snapshot(0).statisticsAnswers);
  total('multi_socket_blocked_total', 'Times a client left its buffer full and its chunks waited.', () => stats.snapshot(0).blocked);
  total('multi_socket_internal_errors_total', 'Connections dropped by a fault of the server.', () => stats.snapshot(0).internalErrors);
  total('multi_socket_health_checks_total', 'Load balancer health checks (PROXY v2 LOCAL), which are not clients.', () => stats.snapshot(0).healthChecks);
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
  byCode('multi_socket_protocol_errors_total', 'Connections refused or closed for breaking the protocol or a limit, by error code.', () => stats.snapshot(0).errors);
  byCode('multi_socket_socket_errors_total', 'Socket errors, by system error code.', () => stats.snapshot(0).connectionErrors);
  byCode('multi_socket_tls_errors_total', 'Failed TLS handshakes, by error code.', () => stats.snapshot(0).tlsErrors);
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
  stats.onLateness((ms) => lateness.observe(ms / 1000));
  return registry;
}

/** Serves the registry at `GET /metrics`; resolves once listening. */
export async function serveMetrics(registry: Registry, host: string, port: number): Promise<{ server: Server; address: AddressInfo }> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url !== '/metrics') {
      response.writeHead(404).end('not found: try GET /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: Error) => response.writeHead(500).end(`${error.message}\n`),
    );
  });
  server.listen({ host, port });
  await Promise.race([once(server, 'listening'), once(server, 'error').then(([error]) => Promise.reject(error as Error))]);
  return { server, address: server.address() as AddressInfo };
}
