import cluster, { type Worker } from 'node:cluster';
import { performance } from 'node:perf_hooks';
import { Message, ours, workerEnv, type ReloadReport, type ToPrimary, type ToWorker } from './cluster-messages.js';
import type { ServerConfig } from './config.js';
import type { ServerEventSink } from './events.js';
import type { ListenAddress, Monitor, MonitoredCluster, WorkerAnswer } from './monitoring.js';
import type { CloseOptions } from './server.js';
import { sumStats, type StatsSnapshot } from './snapshot.js';
import { ListenError } from './listen-error.js';

/**
 * `--workers N`: N processes serving one listening port with node:cluster, so that one machine
 * can hold more connections than one process has file descriptors.
 *
 * The primary only supervises: it forks the workers, prints the lines that concern the whole
 * server once (`listening on`, `shutting down`, `stopped`), replaces a worker that dies, drains
 * them all on a signal, and serves the monitor (`--metrics`) for all of them. Each worker runs the ordinary
 * server (see cluster-worker.ts) and prints its own connections' lines.
 */

export const MAX_WORKERS = 64;

/** The crash-loop guard: more worker deaths than `crashLimit` within this window stop the server. */
const CRASH_WINDOW_MS = 10_000;
const crashLimit = (workers: number): number => Math.max(5, workers);
/** A worker still running this long after the shutdown timeout is killed: it is stuck. */
const STUCK_WORKER_GRACE_MS = 5_000;
/** A worker that does not answer the monitor within this time is left out of that answer. */
const MONITOR_REPLY_MS = 3_000;
/** A worker that does not say how its reload went within this time is counted as failed. */
const RELOAD_REPLY_MS = 5_000;

/** What the primary reports about its workers; src/output decides how each looks. */
export type ClusterEvent =
  | { readonly type: 'worker-listening'; readonly worker: number; readonly pid: number; readonly replacement: boolean }
  /** `cause`: the signal, the exit code, or why the primary killed it. */
  | { readonly type: 'worker-died'; readonly worker: number; readonly pid: number; readonly cause: string; readonly replaced: boolean }
  | { readonly type: 'crash-loop'; readonly deaths: number; readonly withinMs: number };

export type ClusterEventSink = (event: ClusterEvent) => void;

export interface ClusterOptions {
  /**
   * Serves `config.metrics` for the whole server (src/monitor), started once every worker
   * listens, closed once all have exited. Without it, `config.metrics` is not served.
   */
  readonly monitor?: (cluster: MonitoredCluster, where: ListenAddress) => Promise<Monitor>;
}

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
  /** Asks every worker to read the TLS files again (SIGHUP); one line says how it went. */
  reload(): void;
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
  options: ClusterOptions = {},
): Promise<RunningCluster> {
  const primary = new ClusterPrimary(config, workers, report, reportCluster, options);
  const port = await primary.start();
  return { port, failed: primary.failed, close: (options) => primary.close(options), kill: () => primary.kill(), reload: () => primary.reload() };
}

interface Draining {
  readonly name: 'draining';
  readonly drain: Drain;
  /** Kills the workers that outlive the shutdown timeout by too much. */
  readonly stuck: NodeJS.Timeout;
}

/**
 * Where the primary is, with what only that phase needs:
 * starting -> running -> draining -> closed. Workers that keep dying: running -> failed, then
 * draining when the caller closes it. A worker that cannot start: starting -> failed, for good.
 */
type Phase =
  | { readonly name: 'starting' }
  | { readonly name: 'running' }
  | Draining
  | { readonly name: 'failed' }
  | { readonly name: 'closed' };

/**
 * The primary process: forks and replaces the workers, answers their messages according to its
 * phase, and turns what they report into the whole server's lines.
 */
class ClusterPrimary {
  /** Resolves if the crash-loop guard trips. */
  readonly failed: Promise<void>;
  readonly #config: ServerConfig;
  readonly #workers: number;
  readonly #report: ServerEventSink;
  readonly #reportCluster: ClusterEventSink;
  readonly #options: ClusterOptions;
  #phase: Phase = { name: 'starting' };
  readonly #members = new Set<Member>();
  readonly #started = deferred();
  readonly #crashLoop = deferred();
  readonly #closed = deferred();
  /** The port the workers share and its family, once the first one listens. */
  #port: number | undefined;
  #family = 'IPv4';
  /** Where the workers serve the web port, once the first one does. */
  #web: { host: string; port: number } | undefined;
  /** When workers died while running, the oldest first, within the crash window. */
  readonly #deaths: number[] = [];
  #restarts = 0;
  #monitor: Monitor | undefined;
  #monitorRequests = 0;
  #reloads = 0;

  constructor(config: ServerConfig, workers: number, report: ServerEventSink, reportCluster: ClusterEventSink, options: ClusterOptions) {
    this.#config = config;
    this.#options = options;
    this.#workers = workers;
    this.#report = report;
    this.#reportCluster = reportCluster;
    this.failed = this.#crashLoop.promise;
  }

  /** Forks the workers; resolves with their port once all listen, rejects with all killed if one cannot. */
  async start(): Promise<number> {
    const config = this.#config;
    try {
      for (let slot = 1; slot <= this.#workers; slot++) this.#fork(slot, false);
      await this.#started.promise;
      this.#phase = { name: 'running' };
      const port = this.#port;
      if (port === undefined) throw new Error('no worker reported its port');
      this.#report({ type: 'listening', host: config.host, port, family: this.#family });
      if (this.#web !== undefined) this.#report({ type: 'web', ...this.#web, tls: config.tls !== undefined });
      const { monitor } = this.#options;
      const where = config.metrics;
      if (where !== undefined && monitor !== undefined) {
        this.#monitor = await ListenError.naming('metrics', where, () => monitor(this.#monitored(), where));
        this.#report({ type: 'metrics', host: where.host, port: this.#monitor.address.port });
      }
      return port;
    } catch (error) {
      this.#phase = { name: 'failed' };
      this.kill();
      throw error;
    }
  }

  /** See RunningCluster.close(); a second call waits for the same drain. */
  close({ reason = 'server shutting down', signal }: CloseOptions = {}): Promise<void> {
    if (this.#phase.name === 'running' || this.#phase.name === 'failed') {
      const drain = new Drain({ reason, signal }, this.#members, this.#report);
      const stuck = setTimeout(() => this.kill(), this.#config.shutdownTimeoutMs + STUCK_WORKER_GRACE_MS).unref();
      const draining = { name: 'draining', drain, stuck } as const;
      this.#phase = draining;
      for (const member of this.#members) {
        if (member.listening) member.tell({ type: Message.stop, reason, signal });
      }
      // At once if no worker is left.
      drain.reportShutdownWhenComplete();
      if (this.#members.size === 0) void this.#finish(draining);
    }
    return this.#closed.promise;
  }

  kill(): void {
    for (const member of this.#members) member.kill();
  }

  /**
   * Passes a SIGHUP on to every listening worker and reports once for all: the certificate
   * they serve now, or how many failed and why (those keep their previous files). A worker
   * that starts later reads the files as they are then.
   */
  reload(): void {
    if (this.#config.tls === undefined) {
      this.#report({ type: 'nothing-to-reload' });
      return;
    }
    const id = ++this.#reloads;
    const replies = [...this.#members].filter((member) => member.listening).map((member) => member.reload(id));
    void Promise.all(replies).then((reports) => {
      const failures = reports.filter((report) => !report.ok);
      const [first] = reports;
      if (first?.ok === true && failures.length === 0) {
        const certificate = { subject: first.subject, validTo: new Date(first.validTo), fingerprint: first.fingerprint };
        this.#report({ type: 'tls-reloaded', certificate, workers: reports.length });
      } else {
        const [failure] = failures;
        const error = new Error(failure?.ok === false ? failure.message : 'no worker is running');
        this.#report({ type: 'tls-reload-failed', error, workers: { failed: failures.length, of: reports.length } });
      }
    });
  }

  #fork(slot: number, replacement: boolean): void {
    const asked = this.#portsToAsk();
    const worker = cluster.fork(workerEnv(slot, asked.port, asked.webPort));
    const member = new Member(worker, slot, replacement, asked);
    this.#members.add(member);
    // Errors of the channel to a dying worker: its exit tells us what we need.
    worker.on('error', () => undefined);
    worker.on('message', (message: unknown) => this.#onMessage(member, message));
    worker.on('exit', (code: number | null, signal: NodeJS.Signals | null) => this.#onExit(member, code, signal));
  }

  /**
   * The ports a new worker is to ask for. How node:cluster shares a port (checked on Node 20): a
   * worker's listen() asks the primary for a handle keyed by host, port and the worker's count of
   * such listens; the primary binds once per key and hands every worker asking for the same key
   * the same socket. So N workers asking for port 0 share the one port the first ask got. But
   * that socket lives only while some worker holds it: once they have all died, a new listen(0)
   * would bind a new port, and a listen by number (a new key) would find the port taken as long
   * as they have not.
   *
   * So a new worker asks as the workers listening now asked, for their socket; with none
   * listening (they all died, and together: an OOM kill, a signal to each), it asks by number
   * for the port the old socket held, free again since it closed with its last worker. When
   * they die together, a replacement forked just then may ask the wrong way: as they did, after
   * their socket is gone (it gets a port of its own and is killed for it: see Message.listening),
   * or by number while a worker still starting holds their socket (its listen fails). Either way
   * it is replaced, once, by one that asks as the workers listening by then did. (Only a server
   * started on port 0 asks for port 0; one on a port of its own always asks by number, for the
   * same socket.) The same goes for the web port.
   */
  #portsToAsk(): AskedPorts {
    const holder = [...this.#members].find((member) => member.listening);
    if (holder !== undefined) return holder.asked;
    if (this.#port === undefined) return { port: this.#config.port, webPort: undefined };
    return { port: this.#port, webPort: this.#web?.port };
  }

  #onMessage(member: Member, raw: unknown): void {
    const message = ours<ToPrimary>(raw);
    const phase = this.#phase;
    switch (message?.type) {
      case Message.listening:
        if (this.#port !== undefined && message.port !== this.#port) {
          // Only if every worker holding the port died while this one was starting (see
          // #portsToAsk()): it got a port of its own, which no client knows.
          member.kill(`listened on port ${message.port}, not ${this.#port}`);
          return;
        }
        if (this.#web !== undefined && message.web !== undefined && message.web.port !== this.#web.port) {
          member.kill(`served the web port on ${message.web.port}, not ${this.#web.port}`);
          return;
        }
        this.#port = message.port;
        this.#web ??= message.web;
        this.#family = message.family;
        member.listening = true;
        this.#reportCluster({ type: 'worker-listening', worker: member.slot, pid: member.pid, replacement: member.replacement });
        // A worker still starting when the drain began could not hear the request then.
        if (phase.name === 'draining') member.tell({ type: Message.stop, reason: phase.drain.options.reason, signal: phase.drain.options.signal });
        if (phase.name === 'starting' && [...this.#members].every((m) => m.listening)) this.#started.resolve();
        return;
      case Message.failed:
        member.cause = message.message;
        if (message.listen !== undefined) {
          const { listener, host, port, code } = message.listen;
          member.startFailure = new ListenError(listener, host, port, Object.assign(new Error(message.message), { code }));
        }
        return;
      case Message.shutdown:
        if (phase.name === 'draining') phase.drain.shutdown(member, message.clients);
        return;
      case Message.stopped:
        if (phase.name === 'draining') phase.drain.stopped(message.forced, message.stats);
        return;
      case Message.monitorAnswer:
        member.answered(message.id, message.answer);
        return;
      case Message.reloaded:
        member.reloadArrived(message.id, message.outcome);
        return;
      default:
        return;
    }
  }

  #onExit(member: Member, code: number | null, signal: NodeJS.Signals | null): void {
    this.#members.delete(member);
    member.exited();
    const cause = member.cause ?? signal ?? `exit code ${code ?? '?'}`;
    const died = (replaced: boolean): void =>
      this.#reportCluster({ type: 'worker-died', worker: member.slot, pid: member.pid, cause, replaced });
    const phase = this.#phase;
    switch (phase.name) {
      case 'starting':
        this.#started.reject(member.startFailure ?? new Error(member.cause ?? `worker ${member.slot} exited (${cause}) before it was listening`));
        return;
      case 'failed':
      case 'closed':
        return;
      case 'draining':
        if (signal !== null || code !== 0) died(false);
        phase.drain.exited(member);
        if (this.#members.size === 0) void this.#finish(phase);
        return;
      case 'running': {
        const deaths = this.#died(performance.now());
        if (deaths > crashLimit(this.#workers)) {
          died(false);
          this.#reportCluster({ type: 'crash-loop', deaths, withinMs: CRASH_WINDOW_MS });
          this.#phase = { name: 'failed' };
          this.#crashLoop.resolve();
          return;
        }
        died(true);
        this.#restarts++;
        this.#fork(member.slot, true);
        return;
      }
    }
  }

  /** Counts a worker's death at `now`; returns the deaths within the crash window. */
  #died(now: number): number {
    this.#deaths.push(now);
    while ((this.#deaths[0] ?? now) < now - CRASH_WINDOW_MS) this.#deaths.shift();
    return this.#deaths.length;
  }

  /** Every worker has exited: the `stopped` line, once the monitor is closed too. */
  async #finish({ drain, stuck }: Draining): Promise<void> {
    await this.#monitor?.close();
    drain.reportStopped();
    clearTimeout(stuck);
    this.#phase = { name: 'closed' };
    this.#closed.resolve();
  }

  /** The whole server as its monitor sees it. */
  #monitored(): MonitoredCluster {
    return {
      accepting: () => this.#phase.name === 'running',
      workers: () => [...this.#members].filter((member) => member.listening).length,
      restarts: () => this.#restarts,
      ask: (request) => this.#ask(request),
    };
  }

  /** Every listening worker's answer to the monitor's `request`; a worker that dies or does not answer is left out. */
  #ask(request: unknown): Promise<WorkerAnswer[]> {
    const id = ++this.#monitorRequests;
    const replies = [...this.#members].filter((member) => member.listening).map((member) => member.ask(id, request));
    return Promise.all(replies).then((all) => all.filter((answer) => answer !== undefined));
  }
}

/** The ports a worker was told to listen on (0 for any): see ClusterPrimary.#portsToAsk(). */
interface AskedPorts {
  readonly port: number;
  /** Undefined: the one `--web` names. */
  readonly webPort: number | undefined;
}

/** One worker process, as the primary sees it. */
class Member {
  readonly worker: Worker;
  /** 1..N: a replacement takes the slot of the worker it replaces. */
  readonly slot: number;
  readonly pid: number;
  readonly replacement: boolean;
  readonly asked: AskedPorts;
  listening = false;
  /** Why the worker will exit, when we know better than its exit code. */
  cause: string | undefined;
  /** Why it could not start, when a listener was the reason. */
  startFailure: ListenError | undefined;
  /** Monitor requests waiting for this worker's answer, by id. */
  readonly #replies = new Map<number, (answer: WorkerAnswer | undefined) => void>();
  /** Reload requests waiting for this worker's answer, by id. */
  readonly #reloadReplies = new Map<number, (report: ReloadReport) => void>();

  constructor(worker: Worker, slot: number, replacement: boolean, asked: AskedPorts) {
    this.worker = worker;
    this.slot = slot;
    this.pid = worker.process.pid ?? 0;
    this.replacement = replacement;
    this.asked = asked;
  }

  tell(message: ToWorker): void {
    // A worker that is dying cannot hear it; its exit is handled on its own.
    if (this.worker.isConnected()) this.worker.send(message, undefined, {}, () => undefined);
  }

  kill(cause?: string): void {
    if (cause !== undefined) this.cause = cause;
    this.worker.process.kill('SIGKILL');
  }

  /** Asks the worker's MonitorAgent; undefined if the worker dies or does not answer in time. */
  ask(id: number, request: unknown): Promise<WorkerAnswer | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => reply(undefined), MONITOR_REPLY_MS);
      const reply = (answer: WorkerAnswer | undefined): void => {
        clearTimeout(timer);
        this.#replies.delete(id);
        resolve(answer);
      };
      this.#replies.set(id, reply);
      this.tell({ type: Message.monitorRequest, id, request });
    });
  }

  answered(id: number, answer: unknown): void {
    this.#replies.get(id)?.({ worker: this.slot, pid: this.pid, answer });
  }

  /** Asks the worker to reload; a worker that dies or does not answer in time has failed. */
  reload(id: number): Promise<ReloadReport> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => reply({ ok: false, message: `worker ${this.slot} did not answer` }), RELOAD_REPLY_MS);
      const reply = (report: ReloadReport): void => {
        clearTimeout(timer);
        this.#reloadReplies.delete(id);
        resolve(report);
      };
      this.#reloadReplies.set(id, reply);
      this.tell({ type: Message.reload, id });
    });
  }

  reloadArrived(id: number, report: ReloadReport): void {
    this.#reloadReplies.get(id)?.(report);
  }

  exited(): void {
    for (const reply of this.#replies.values()) reply(undefined);
    for (const reply of this.#reloadReplies.values()) reply({ ok: false, message: `worker ${this.slot} exited` });
  }
}

/**
 * One drain of every worker: adds up what each reports, so that the whole server prints one
 * `shutting down` line (with everyone's clients) and one `stopped` line.
 */
class Drain {
  readonly options: CloseOptions & { readonly reason: string };
  readonly #report: ServerEventSink;
  /** Workers whose `shutdown` count has not come yet. */
  readonly #unreported: Set<Member>;
  #reported = false;
  #clients = 0;
  #forced = 0;
  readonly #stats: StatsSnapshot[] = [];

  constructor(options: CloseOptions & { readonly reason: string }, members: Iterable<Member>, report: ServerEventSink) {
    this.options = options;
    this.#unreported = new Set(members);
    this.#report = report;
  }

  shutdown(member: Member, clients: number): void {
    this.#clients += clients;
    this.#unreported.delete(member);
    this.reportShutdownWhenComplete();
  }

  stopped(forced: number, stats: StatsSnapshot): void {
    this.#forced += forced;
    this.#stats.push(stats);
  }

  /** A worker that exits reports nothing more: the line goes out without its share. */
  exited(member: Member): void {
    this.#unreported.delete(member);
    this.reportShutdownWhenComplete();
  }

  reportShutdownWhenComplete(): void {
    if (this.#unreported.size > 0 || this.#reported) return;
    this.#reported = true;
    this.#report({ type: 'shutdown', reason: this.options.reason, signal: this.options.signal, clients: this.#clients });
  }

  reportStopped(): void {
    this.#report({ type: 'stopped', forced: this.#forced, stats: sumStats(this.#stats) });
  }
}

function deferred(): { readonly promise: Promise<void>; readonly resolve: () => void; readonly reject: (error: Error) => void } {
  let resolve: () => void = () => undefined;
  let reject: (error: Error) => void = () => undefined;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
