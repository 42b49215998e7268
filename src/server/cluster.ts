import cluster, { type Worker } from 'node:cluster';
import { performance } from 'node:perf_hooks';
import type { ServerConfig } from './config.js';
import type { ServerEventSink } from './events.js';
import { startServer, type CloseOptions, type RunningServer } from './server.js';
import { ServerStats, sumStats, type StatsSnapshot } from './stats.js';
import type { serveClusterMetrics } from './cluster-metrics.js';

/**
 * `--workers N`: N processes serving one listening port with node:cluster, so that one machine
 * can hold more connections than one process has file descriptors.
 *
 * The primary only supervises: it forks the workers, prints the lines that concern the whole
 * server once (`listening on`, `shutting down`, `stopped`), replaces a worker that dies, drains
 * them all on a signal, and serves the metrics of all of them. Each worker runs the ordinary
 * server (startServer) on the same configuration, with its share of `--max-clients`, and prints
 * its own connections' lines.
 */

export const MAX_WORKERS = 64;

/** The crash-loop guard: more worker deaths than `crashLimit` within this window stop the server. */
const CRASH_WINDOW_MS = 10_000;
const crashLimit = (workers: number): number => Math.max(5, workers);
/** A worker still running this long after the shutdown timeout is killed: it is stuck. */
const STUCK_WORKER_GRACE_MS = 5_000;
/** A worker that does not send its metrics within this time is left out of that scrape. */
const METRICS_REPLY_MS = 3_000;
/** How the primary tells a worker its slot and the port to listen on: `slot:port`. */
const WORKER_ENV = 'MULTI_SOCKET_WORKER';

/** What the primary reports about its workers; src/output decides how each looks. */
export type ClusterEvent =
  | { readonly type: 'worker-listening'; readonly worker: number; readonly pid: number; readonly replacement: boolean }
  /** `cause`: the signal, the exit code, or why the primary killed it. */
  | { readonly type: 'worker-died'; readonly worker: number; readonly pid: number; readonly cause: string; readonly replaced: boolean }
  | { readonly type: 'crash-loop'; readonly deaths: number; readonly withinMs: number };

export type ClusterEventSink = (event: ClusterEvent) => void;

// ---- the messages between the primary and a worker ---------------------------------------------

// Prefixed: the same channel carries node:cluster's own messages and anyone else's.
const STOP = 'multi-socket:stop';
const METRICS_REQUEST = 'multi-socket:metrics-request';
const LISTENING = 'multi-socket:listening';
const FAILED = 'multi-socket:failed';
const SHUTDOWN = 'multi-socket:shutdown';
const STOPPED = 'multi-socket:stopped';
const METRICS = 'multi-socket:metrics';

type ToWorker =
  | { readonly type: typeof STOP; readonly reason: string; readonly signal: NodeJS.Signals | undefined }
  | { readonly type: typeof METRICS_REQUEST; readonly id: number };

type ToPrimary =
  | { readonly type: typeof LISTENING; readonly port: number; readonly family: string }
  | { readonly type: typeof FAILED; readonly message: string }
  | { readonly type: typeof SHUTDOWN; readonly clients: number }
  | { readonly type: typeof STOPPED; readonly forced: number; readonly stats: StatsSnapshot }
  | { readonly type: typeof METRICS; readonly id: number; readonly metrics: object };

/** One of our messages (from our own other process, so trusted past the prefix), or undefined. */
function ours<T extends { type: string }>(message: unknown): T | undefined {
  const type = (message as { type?: unknown } | null)?.type;
  return typeof type === 'string' && type.startsWith('multi-socket:') ? (message as T) : undefined;
}

/** Whether this process is a worker forked by startCluster. */
export function isClusterWorker(): boolean {
  return cluster.isWorker && process.env[WORKER_ENV] !== undefined;
}

/**
 * What one of `workers` processes serves: its share of the connection cap (rounded up, so the
 * whole server holds at least `maxClients`), on the port the primary chose; the primary alone
 * serves the metrics.
 */
export function workerConfig(config: ServerConfig, workers: number, port: number): ServerConfig {
  return { ...config, port, maxClients: Math.ceil(config.maxClients / workers), metrics: undefined };
}

// ---- the primary ---------------------------------------------------------------------------------

export interface RunningCluster {
  /** The one port every worker serves. */
  readonly port: number;
  /** Resolves if workers keep dying (the crash-loop guard tripped): stop the server, exit 1. */
  readonly failed: Promise<void>;
  /**
   * Asks every worker to close as a single server does (a `shutdown` frame to each client, the
   * shutdown timeout), and resolves once all have exited; prints one `shutting down` line with
   * the clients of all of them and one `stopped` line.
   */
  close(options?: CloseOptions): Promise<void>;
  /** Kills every worker at once: for a second signal. */
  kill(): void;
}

interface Member {
  /** 1..N: a replacement takes the slot of the worker it replaces. */
  readonly slot: number;
  readonly worker: Worker;
  readonly pid: number;
  readonly replacement: boolean;
  listening: boolean;
  /** Why the worker will exit, when we know better than its exit code. */
  cause?: string;
  /** Metrics requests waiting for this worker's answer, by id. */
  readonly metricsReplies: Map<number, (metrics: object | undefined) => void>;
}

interface Draining {
  readonly options: Required<Pick<CloseOptions, 'reason'>> & CloseOptions;
  /** Workers whose `shutdown` count has not come yet. */
  readonly unreported: Set<Member>;
  /** Whether the `shutdown` line with every worker's clients is out. */
  reported: boolean;
  clients: number;
  forced: number;
  stats: StatsSnapshot;
  readonly done: () => void;
}

/**
 * Forks `workers` processes that each run the server with `config`; resolves once all of them
 * listen, rejects (with every worker stopped) if one cannot.
 */
export async function startCluster(
  config: ServerConfig,
  workers: number,
  report: ServerEventSink,
  reportCluster: ClusterEventSink,
): Promise<RunningCluster> {
  const members = new Map<Worker, Member>();
  let phase: 'starting' | 'running' | 'draining' | 'failed' = 'starting';
  let started: { resolve: () => void; reject: (error: Error) => void } | undefined;
  let sharedPort: number | undefined;
  let family = 'IPv4';
  /** The port workers are told to listen on: see fork(). */
  let listenPort = config.port;
  const deaths: number[] = [];
  let restarts = 0;
  let tripGuard: () => void = () => undefined;
  const failed = new Promise<void>((resolve) => (tripGuard = resolve));
  let draining: Draining | undefined;
  let closing: Promise<void> | undefined;
  let metrics: Awaited<ReturnType<typeof serveClusterMetrics>> | undefined;
  let metricsRequests = 0;

  const tell = (member: Member, message: ToWorker): void => {
    // A worker that is dying cannot hear it; its exit is handled on its own.
    if (member.worker.isConnected()) member.worker.send(message, undefined, {}, () => undefined);
  };

  function fork(slot: number, replacement: boolean): void {
    // How node:cluster shares a port (checked on Node 20): a worker's listen() asks the primary
    // for a handle keyed by host, port and the worker's count of such listens; the primary binds
    // once per key and hands every worker asking for the same key the same socket. So N workers
    // asking for port 0 share the one port the first ask got. But that socket lives only while
    // some worker holds it: once every worker has died, a new listen(0) would bind a new port. So
    // from then on workers ask for the port by number (a new key, free again by then, because
    // the old socket closed with its last worker).
    if (members.size === 0 && sharedPort !== undefined) listenPort = sharedPort;
    const worker = cluster.fork({ [WORKER_ENV]: `${slot}:${listenPort}` });
    const member: Member = { slot, worker, pid: worker.process.pid ?? 0, replacement, listening: false, metricsReplies: new Map() };
    members.set(worker, member);
    // Errors of the channel to a dying worker: its exit tells us what we need.
    worker.on('error', () => undefined);
    worker.on('message', (message: unknown) => onMessage(member, message));
    worker.on('exit', (code: number | null, signal: NodeJS.Signals | null) => onExit(member, code, signal));
  }

  function onMessage(member: Member, raw: unknown): void {
    const message = ours<ToPrimary>(raw);
    switch (message?.type) {
      case LISTENING:
        if (sharedPort !== undefined && message.port !== sharedPort) {
          // Only if every worker holding the port died while this one was starting (see fork()):
          // it got a port of its own, which no client knows. Its replacement asks by number.
          member.cause = `listened on port ${message.port}, not ${sharedPort}`;
          member.worker.process.kill('SIGKILL');
          return;
        }
        sharedPort = message.port;
        family = message.family;
        member.listening = true;
        reportCluster({ type: 'worker-listening', worker: member.slot, pid: member.pid, replacement: member.replacement });
        // A worker still starting when the drain began could not hear the request then.
        if (draining !== undefined) tell(member, { type: STOP, reason: draining.options.reason, signal: draining.options.signal });
        if (phase === 'starting' && [...members.values()].every((m) => m.listening)) started?.resolve();
        return;
      case FAILED:
        member.cause = message.message;
        return;
      case SHUTDOWN:
        if (draining === undefined) return;
        draining.clients += message.clients;
        draining.unreported.delete(member);
        reportShutdownWhenComplete();
        return;
      case STOPPED:
        if (draining === undefined) return;
        draining.forced += message.forced;
        draining.stats = sumStats([draining.stats, message.stats]);
        return;
      case METRICS:
        member.metricsReplies.get(message.id)?.(message.metrics);
        return;
      default:
        return;
    }
  }

  function onExit(member: Member, code: number | null, signal: NodeJS.Signals | null): void {
    members.delete(member.worker);
    for (const reply of member.metricsReplies.values()) reply(undefined);
    const cause = member.cause ?? (signal ?? `exit code ${code ?? '?'}`);
    const died = (replaced: boolean): void =>
      reportCluster({ type: 'worker-died', worker: member.slot, pid: member.pid, cause, replaced });
    switch (phase) {
      case 'starting':
        started?.reject(new Error(member.cause ?? `worker ${member.slot} exited (${cause}) before it was listening`));
        return;
      case 'failed':
        return;
      case 'draining':
        if (signal !== null || code !== 0) died(false);
        if (draining !== undefined) {
          draining.unreported.delete(member);
          reportShutdownWhenComplete();
        }
        if (members.size === 0) void finishDrain();
        return;
      case 'running': {
        const now = performance.now();
        deaths.push(now);
        while ((deaths[0] ?? now) < now - CRASH_WINDOW_MS) deaths.shift();
        if (deaths.length > crashLimit(workers)) {
          died(false);
          reportCluster({ type: 'crash-loop', deaths: deaths.length, withinMs: CRASH_WINDOW_MS });
          phase = 'failed';
          tripGuard();
          return;
        }
        died(true);
        restarts++;
        fork(member.slot, true);
        return;
      }
    }
  }

  function reportShutdownWhenComplete(): void {
    if (draining === undefined || draining.unreported.size > 0 || draining.reported) return;
    draining.reported = true;
    const { options, clients } = draining;
    report({ type: 'shutdown', reason: options.reason, signal: options.signal, clients });
  }

  async function finishDrain(): Promise<void> {
    if (draining === undefined) return;
    if (metrics !== undefined) await new Promise((resolve) => metrics?.server.close(resolve));
    report({ type: 'stopped', forced: draining.forced, stats: draining.stats });
    draining.done();
  }

  function kill(): void {
    for (const member of members.values()) member.worker.process.kill('SIGKILL');
  }

  function close({ reason = 'server shutting down', signal }: CloseOptions = {}): Promise<void> {
    closing ??= new Promise<void>((resolve) => {
      phase = 'draining';
      const stuck = setTimeout(kill, config.shutdownTimeoutMs + STUCK_WORKER_GRACE_MS).unref();
      draining = {
        options: { reason, signal },
        unreported: new Set(members.values()),
        reported: false,
        clients: 0,
        forced: 0,
        stats: sumStats([]),
        done: () => {
          clearTimeout(stuck);
          resolve();
        },
      };
      for (const member of members.values()) {
        if (member.listening) tell(member, { type: STOP, reason, signal });
      }
      reportShutdownWhenComplete();
      if (members.size === 0) void finishDrain();
    });
    return closing;
  }

  /** Every listening worker's registry as JSON; a worker that dies or does not answer is left out. */
  function gatherMetrics(): Promise<object[]> {
    const id = ++metricsRequests;
    const replies = [...members.values()]
      .filter((member) => member.listening)
      .map(
        (member) =>
          new Promise<object | undefined>((resolve) => {
            const timer = setTimeout(() => reply(undefined), METRICS_REPLY_MS);
            const reply = (metrics: object | undefined): void => {
              clearTimeout(timer);
              member.metricsReplies.delete(id);
              resolve(metrics);
            };
            member.metricsReplies.set(id, reply);
            tell(member, { type: METRICS_REQUEST, id });
          }),
      );
    return Promise.all(replies).then((all) => all.filter((metrics) => metrics !== undefined));
  }

  try {
    await new Promise<void>((resolve, reject) => {
      started = { resolve, reject };
      for (let slot = 1; slot <= workers; slot++) fork(slot, false);
    });
    phase = 'running';
    if (sharedPort === undefined) throw new Error('no worker reported its port');
    report({ type: 'listening', host: config.host, port: sharedPort, family });
    if (config.metrics !== undefined) {
      // Loaded only when asked for, as in server.ts: prom-client costs start-up time.
      const loaded = await import('./cluster-metrics.js');
      metrics = await loaded.serveClusterMetrics(config.metrics, gatherMetrics, { workers: () => members.size, restarts: () => restarts });
      report({ type: 'metrics', host: config.metrics.host, port: metrics.address.port });
    }
  } catch (error) {
    phase = 'failed';
    kill();
    throw error;
  }

  return { port: sharedPort, failed, close, kill };
}

// ---- a worker ------------------------------------------------------------------------------------

export interface ClusterWorker {
  readonly server: RunningServer;
  /** Calls `listener` when the primary asks this worker to drain (it got SIGINT or SIGTERM). */
  onStopRequest(listener: (options: CloseOptions) => void): void;
  /** Resolves once every message to the primary is handed over: await it before exiting. */
  flush(): Promise<void>;
}

/**
 * Runs this worker's server with its share of `config`. The lines that concern the whole server
 * (`listening`, `shutdown`, `stopped`) go to the primary, which prints each once; the others go
 * to `report`. Resolves with undefined if the server cannot listen (the primary reports why).
 */
export async function startWorker(config: ServerConfig, workers: number, report: ServerEventSink): Promise<ClusterWorker | undefined> {
  const port = Number((process.env[WORKER_ENV] ?? '').split(':')[1]);
  const sending = new Set<Promise<void>>();
  const send = (message: ToPrimary): void => {
    const sent = new Promise<void>((resolve) => {
      if (process.send === undefined) resolve();
      else process.send(message, undefined, {}, () => resolve());
    });
    sending.add(sent);
    void sent.then(() => sending.delete(sent));
  };
  const flush = async (): Promise<void> => {
    await Promise.all(sending);
  };

  let server: RunningServer | undefined;
  let stopRequest: CloseOptions | undefined;
  let onStop: ((options: CloseOptions) => void) | undefined;
  let stats: ServerStats | undefined;
  let readMetrics: (() => Promise<object>) | undefined;
  if (config.metrics !== undefined) {
    // The primary serves them, summed over the workers; each worker keeps its own registry.
    const loaded = await import('./cluster-metrics.js');
    stats = new ServerStats();
    readMetrics = loaded.workerMetrics(stats, () => server?.clients ?? 0);
  }
  process.on('message', (raw: unknown) => {
    const message = ours<ToWorker>(raw);
    if (message?.type === STOP) {
      stopRequest = { reason: message.reason, signal: message.signal };
      onStop?.(stopRequest);
    } else if (message?.type === METRICS_REQUEST) {
      void (readMetrics?.() ?? Promise.resolve([])).then((metrics) => send({ type: METRICS, id: message.id, metrics }));
    }
  });

  const sink: ServerEventSink = (event) => {
    switch (event.type) {
      case 'listening':
        send({ type: LISTENING, port: event.port, family: event.family });
        return;
      case 'shutdown':
        send({ type: SHUTDOWN, clients: event.clients });
        return;
      case 'stopped':
        send({ type: STOPPED, forced: event.forced, stats: event.stats });
        return;
      default:
        report(event);
    }
  };

  try {
    server = await startServer(workerConfig(config, workers, port), sink, { stats, chunkEvents: config.mode !== 'quiet' });
  } catch (error) {
    send({ type: FAILED, message: error instanceof Error ? error.message : String(error) });
    await flush();
    return undefined;
  }
  return {
    server,
    onStopRequest(listener) {
      onStop = listener;
      if (stopRequest !== undefined) listener(stopRequest);
    },
    flush,
  };
}
