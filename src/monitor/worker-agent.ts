import type { MonitorAgent } from '../server/monitoring.js';
import type { RunningServer } from '../server/server.js';
import { selectConnections, type ConnzQuery } from './connz.js';
import { Probe } from './probe.js';
import { createMetrics } from './prometheus.js';

/** What the primary's monitor asks a worker, over the cluster's channel. */
export type AgentRequest =
  /** The worker's totals and its lateness since the last reading: once a second, by the sampler alone. */
  | { readonly what: 'reading' }
  /** The totals, for `/varz`. */
  | { readonly what: 'totals' }
  /** The worker's first `query.limit` connections in the query's order, and how many it has: for `/connz`. */
  | { readonly what: 'connz'; readonly query: ConnzQuery }
  /** The registry as JSON, for the primary to add up into `/metrics`. */
  | { readonly what: 'metrics' };

/** A worker's side of the monitor: the same probe and registry a single server has, read on request. */
export function startWorkerAgent(server: RunningServer): MonitorAgent {
  const probe = new Probe(server);
  const registry = createMetrics(server);
  return {
    async answer(request: unknown): Promise<unknown> {
      // From our own primary: trusted past its type.
      const asked = request as AgentRequest;
      switch (asked.what) {
        case 'reading':
          return probe.read();
        case 'totals':
          return probe.totals();
        case 'connz':
          return selectConnections(server.connections(), server.clients, asked.query);
        case 'metrics':
          return registry.getMetricsAsJSON();
        default:
          return null;
      }
    },
  };
}
