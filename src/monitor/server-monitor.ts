import type { ListenAddress, Monitor } from '../server/monitoring.js';
import type { RunningServer } from '../server/server.js';
import { connzOf, selectConnections } from './connz.js';
import { startListener } from './listener.js';
import { Probe } from './probe.js';
import { createMetrics } from './prometheus.js';
import { Sampler } from './sampler.js';
import { varzOf } from './varz.js';

/** The monitor of a single server process: every figure read from the server itself. */
export function startServerMonitor(server: RunningServer, where: ListenAddress): Promise<Monitor> {
  const probe = new Probe(server);
  const registry = createMetrics(server);
  const ready = (): boolean => server.accepting;
  return startListener(
    {
      ready,
      varz: () => Promise.resolve(varzOf({ ready: ready(), workers: 1, restarts: 0, totals: [probe.totals()] })),
      connz: (query) => Promise.resolve(connzOf(selectConnections(server.connections(), server.clients, query), query)),
      metrics: async () => ({ text: await registry.metrics(), contentType: registry.contentType }),
      sampler: new Sampler({ ready, read: () => [{ key: 'server', reading: probe.read() }] }),
    },
    where,
  );
}
