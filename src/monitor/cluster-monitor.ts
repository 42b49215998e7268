import type { ListenAddress, Monitor, MonitoredCluster, WorkerAnswer } from '../server/monitoring.js';
import type { ConnectionSnapshot } from '../server/monitoring.js';
import { clusterRegistry } from './cluster-prometheus.js';
import { connzOf, mergePages } from './connz.js';
import { startListener } from './listener.js';
import { processReading, type Reading, type Totals } from './probe.js';
import { Sampler } from './sampler.js';
import { varzOf } from './varz.js';
import type { AgentRequest } from './worker-agent.js';

/**
 * The monitor of `--workers N`, served by the primary: each figure gathered from the workers
 * over the cluster's channel (their agents answer, see worker-agent.ts) and added up. The
 * sampler asks once a second, whoever watches; `/varz`, `/connz` and `/metrics` ask when asked.
 */
export function startClusterMonitor(cluster: MonitoredCluster, where: ListenAddress): Promise<Monitor> {
  const ask = async <T>(request: AgentRequest): Promise<(WorkerAnswer & { readonly answer: T })[]> =>
    // A worker whose agent is not up yet answers null: left out, as one that does not answer.
    (await cluster.ask(request)).filter((reply): reply is WorkerAnswer & { answer: T } => reply.answer !== null);
  const ready = (): boolean => cluster.accepting();
  const sampler = new Sampler({
    ready,
    read: async () => (await ask<Reading>({ what: 'reading' })).map(({ worker, pid, answer }) => ({ key: String(pid), worker: { slot: worker, pid }, reading: answer })),
    own: processReading,
  });
  const registry = clusterRegistry(cluster, async () => (await ask<object>({ what: 'metrics' })).map(({ answer }) => answer));
  return startListener(
    {
      ready,
      varz: async () => {
        const totals = (await ask<Totals>({ what: 'totals' })).map(({ answer }) => answer);
        return varzOf({ ready: ready(), workers: cluster.workers(), restarts: cluster.restarts(), totals, own: processReading() });
      },
      connz: async (query) => {
        // Each worker's first offset + limit in the same order hold the whole server's page.
        const asked = { ...query, offset: 0, limit: query.offset + query.limit };
        const pages = await ask<{ total: number; page: ConnectionSnapshot[] }>({ what: 'connz', query: asked });
        return connzOf(mergePages(pages.map(({ worker, answer }) => ({ worker, ...answer })), query), query);
      },
      metrics: async () => ({ text: await registry.metrics(), contentType: registry.contentType }),
      sampler,
    },
    where,
  );
}
