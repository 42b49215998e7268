import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';
import type { MonitoredCluster } from '../server/monitoring.js';

/**
 * Metrics with `--workers N`: every worker keeps the registry a single server has (fed by its
 * own counters), and the primary serves `/metrics` once, with the workers' registries summed by
 * prom-client's AggregatorRegistry: counters and the lateness histogram (bucket by bucket) add
 * up, process figures (CPU, memory, handles) are the whole server's, as prom-client aggregates
 * its default metrics. Counters drop when a worker is replaced, as they would on a restart.
 * (A worker's side is its registry read with `getMetricsAsJSON()`: see worker-agent.ts.)
 */

/**
 * The primary's side: the sum of what `gather` collects from the workers (one
 * `getMetricsAsJSON()` array each), and the primary's own figures.
 */
export function clusterRegistry(cluster: Pick<MonitoredCluster, 'workers' | 'restarts'>, gather: () => Promise<object[]>): Registry {
  const own = new Registry();
  new Gauge({ name: 'multi_socket_workers', help: 'Worker processes running.', registers: [own], collect() {
    this.set(cluster.workers());
  } });
  new Counter({ name: 'multi_socket_worker_restarts_total', help: 'Workers that died and were replaced.', registers: [own], collect() {
    this.reset();
    this.inc(cluster.restarts());
  } });
  return new ClusterRegistry(gather, own);
}

/** A registry whose text is the workers' sum followed by the primary's own metrics. */
class ClusterRegistry extends Registry {
  readonly #gather: () => Promise<object[]>;
  readonly #own: Registry;

  constructor(gather: () => Promise<object[]>, own: Registry) {
    super();
    this.#gather = gather;
    this.#own = own;
  }

  override async metrics(): Promise<string> {
    const workers = AggregatorRegistry.aggregate(await this.#gather());
    return (await workers.metrics()) + (await this.#own.metrics());
  }
}
