import cluster from 'node:cluster';
import type { ServerConfig } from './config.js';
import type { ServerEventSink } from './events.js';
import { Message, ours, workerPort, workerWebPort, type ReloadReport, type ToPrimary, type ToWorker } from './cluster-messages.js';
import { ListenError } from './listen-error.js';
import type { MonitorAgent } from './monitoring.js';
import { startServer, type CloseOptions, type ReloadOutcome, type RunningServer, type StartOptions } from './server.js';

/**
 * One worker of `--workers N`: the ordinary server (startServer) on the primary's port, with its
 * share of `--max-clients`. It prints its own connections' lines; the lines that concern the
 * whole server go to the primary, which prints each once (see cluster.ts).
 */

/** Whether this process is a worker forked by startCluster. */
export function isClusterWorker(): boolean {
  return cluster.isWorker && workerPort() !== undefined;
}

/**
 * What one of `workers` processes serves: its share of the connection cap (rounded up, so the
 * whole server holds at least `maxClients`), on the port the primary chose; the primary alone
 * serves the monitor.
 */
export function workerConfig(config: ServerConfig, workers: number, port: number): ServerConfig {
  const share = (limit: number): number => Math.ceil(limit / workers);
  const perAddress = config.maxClientsPerAddress === undefined ? undefined : share(config.maxClientsPerAddress);
  return { ...config, port, maxClients: share(config.maxClients), maxClientsPerAddress: perAddress, metrics: undefined };
}

export interface WorkerOptions extends Pick<StartOptions, 'chunkEvents' | 'web'> {
  /** With `--metrics`: answers the primary's monitor about this worker (src/monitor). */
  readonly agent?: (server: RunningServer) => Promise<MonitorAgent>;
}

export interface ClusterWorker {
  readonly server: RunningServer;
  /** Calls `listener` when the primary asks this worker to drain (it got SIGINT or SIGTERM). */
  onStopRequest(listener: (options: CloseOptions) => void): void;
  /**
   * Tells the primary this worker listens. Call it once this process handles its signals: the
   * primary's `listening on` follows, and whoever reads it may signal every process at once.
   */
  announce(): void;
  /** Resolves once every message to the primary is handed over: await it before exiting. */
  flush(): Promise<void>;
}

/**
 * Runs this worker's server with its share of `config`. The lines that concern the whole server
 * (`listening`, `shutdown`, `stopped`) go to the primary; the others go to `report`. Resolves
 * with undefined if the server cannot listen (the primary reports why); else the primary learns
 * that it listens from announce().
 */
export async function startWorker(config: ServerConfig, workers: number, report: ServerEventSink, options: WorkerOptions = {}): Promise<ClusterWorker | undefined> {
  const primary = new PrimaryChannel();
  let server: RunningServer | undefined;
  let stopRequest: CloseOptions | undefined;
  let onStop: ((options: CloseOptions) => void) | undefined;
  // The primary may ask as soon as this worker says it listens, before the agent is up.
  let agentStarted: (agent: MonitorAgent | undefined) => void = () => undefined;
  const agent = new Promise<MonitorAgent | undefined>((resolve) => (agentStarted = resolve));
  const answer = async (request: unknown): Promise<unknown> => {
    try {
      return (await (await agent)?.answer(request)) ?? null;
    } catch {
      return null;
    }
  };
  process.on('message', (raw: unknown) => {
    const message = ours<ToWorker>(raw);
    switch (message?.type) {
      case Message.stop:
        stopRequest = { reason: message.reason, signal: message.signal };
        onStop?.(stopRequest);
        return;
      case Message.monitorRequest:
        void answer(message.request).then((reply) => primary.send({ type: Message.monitorAnswer, id: message.id, answer: reply }));
        return;
      case Message.reload: {
        const outcome = server?.reload();
        if (outcome !== undefined) primary.send({ type: Message.reloaded, id: message.id, outcome: reloadReport(outcome) });
        return;
      }
      default:
        return;
    }
  });

  // The worker is listening once startServer resolves: its ports go to the primary together.
  let listening: Extract<ToPrimary, { type: typeof Message.listening }> | undefined;
  const sink: ServerEventSink = (event) => {
    switch (event.type) {
      case 'listening':
        listening = { type: Message.listening, port: event.port, family: event.family };
        return;
      case 'web':
        if (listening !== undefined) listening = { ...listening, web: { host: event.host, port: event.port } };
        return;
      case 'shutdown':
        primary.send({ type: Message.shutdown, clients: event.clients });
        return;
      case 'stopped':
        primary.send({ type: Message.stopped, forced: event.forced, stats: event.stats });
        return;
      // The primary says how the reload went, once for all the workers.
      case 'tls-reloaded':
      case 'tls-reload-failed':
      case 'nothing-to-reload':
        return;
      default:
        report(event);
    }
  };

  try {
    const port = workerPort() ?? config.port;
    server = await startServer(workerConfig(config, workers, port), sink, { chunkEvents: options.chunkEvents, web: options.web, webPort: workerWebPort() });
  } catch (error) {
    agentStarted(undefined);
    const listen = error instanceof ListenError ? { listener: error.listener, host: error.host, port: error.port, code: error.cause.code } : undefined;
    primary.send({ type: Message.failed, message: error instanceof Error ? error.message : String(error), listen });
    await primary.flush();
    return undefined;
  }
  agentStarted(config.metrics === undefined ? undefined : await options.agent?.(server));
  return {
    server,
    onStopRequest(listener) {
      onStop = listener;
      // A request that came before anyone listened is not lost.
      if (stopRequest !== undefined) listener(stopRequest);
    },
    announce() {
      if (listening !== undefined) primary.send(listening);
    },
    flush: () => primary.flush(),
  };
}

function reloadReport(outcome: ReloadOutcome): ReloadReport {
  switch (outcome.type) {
    case 'tls-reloaded': {
      const { subject, validTo, fingerprint } = outcome.certificate;
      return { ok: true, subject, validTo: validTo.toISOString(), fingerprint };
    }
    case 'tls-reload-failed':
      return { ok: false, message: outcome.error.message };
    case 'nothing-to-reload':
      return { ok: false, message: 'nothing to reload (no --tls-cert)' };
  }
}

/** The worker's end of the IPC channel, which knows when everything sent has been handed over. */
class PrimaryChannel {
  readonly #sending = new Set<Promise<void>>();

  send(message: ToPrimary): void {
    const sent = new Promise<void>((resolve) => {
      if (process.send === undefined) resolve();
      else process.send(message, undefined, {}, () => resolve());
    });
    this.#sending.add(sent);
    void sent.then(() => this.#sending.delete(sent));
  }

  async flush(): Promise<void> {
    await Promise.all(this.#sending);
  }
}
