import type { ListenAddress, Monitor, MonitorAgent, MonitoredCluster } from '../server/monitoring.js';
import type { RunningServer } from '../server/server.js';

/**
 * The monitor (`--metrics`) as the command line hands it to the server: starters that load it
 * only when called, since prom-client and the rest cost start-up time that most runs do not need.
 */

/** For a single server process. */
export async function startMonitor(server: RunningServer, where: ListenAddress): Promise<Monitor> {
  return (await import('./server-monitor.js')).startServerMonitor(server, where);
}

/** For the primary of `--workers N`: the whole server's figures, gathered from the workers. */
export async function startClusterMonitor(cluster: MonitoredCluster, where: ListenAddress): Promise<Monitor> {
  return (await import('./cluster-monitor.js')).startClusterMonitor(cluster, where);
}

/** For each worker of `--workers N`: answers the primary's monitor. */
export async function startWorkerAgent(server: RunningServer): Promise<MonitorAgent> {
  return (await import('./worker-agent.js')).startWorkerAgent(server);
}
