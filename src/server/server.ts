import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import type { ProtocolError } from '../protocol/errors.js';
import { MessageType } from '../protocol/frame.js';
import { encodeServerFrame, errorContent } from '../protocol/messages.js';
import { AcceptPipeline, type AcceptHandler } from '../transport/accept.js';
import { TcpTransport } from '../transport/tcp.js';
import { TlsTerminator } from '../transport/tls.js';
import type { PeerAddress, Transport } from '../transport/transport.js';
import { Admission } from './admission.js';
import type { ServerConfig } from './config.js';
import type { Peer, ServerEvent, ServerEventSink } from './events.js';
import { StreamSource } from './generator.js';
import { Scheduler } from './scheduler.js';
import { ListenError } from './listen-error.js';
import { CLOSE_GRACE_MS, Session } from './session.js';
import { dropOnFault, type SessionContext } from './session-core.js';
import { TurnQueue } from './turns.js';
import type { StatsSnapshot } from './snapshot.js';
import { processSnapshot, ServerStats } from './stats.js';
import type { ListenAddress, Monitor, MonitoredConnection } from './monitoring.js';

export interface CloseOptions {
  /** What the `shutdown` frame tells every client. */
  readonly reason?: string;
  /** The signal that asked for it, if any: the original prints a line for Ctrl-C. */
  readonly signal?: NodeJS.Signals;
}

export interface RunningServer {
  /** Where the server listens; with port 0, the port the system picked. */
  readonly address: AddressInfo;
  /** Connections being served now. */
  readonly clients: number;
  /** The counters so far. */
  stats(): StatsSnapshot;
  /** Whether new clients are served: false from the moment a shutdown begins (`/readyz`). */
  readonly accepting: boolean;
  /** The connections being served, oldest first. */
  connections(): Iterable<MonitoredConnection>;
  /** Adds an observer of every chunk's lateness, in ms. */
  onLateness(observer: (ms: number) => void): void;
  /**
   * Reads the TLS files again for new connections (SIGHUP), keeping the old ones if a file
   * cannot be used; reports what it did, or that there is nothing to reload, and returns that.
   */
  reload(): ReloadOutcome;
  /**
   * Stops accepting, sends every client a `shutdown` frame with the reason, and resolves once
   * every connection has closed; sockets still open after the shutdown timeout are destroyed.
   */
  close(options?: CloseOptions): Promise<void>;
}

/** What a reload did: the event it reported. */
export type ReloadOutcome = Extract<ServerEvent, { readonly type: 'tls-reloaded' | 'tls-reload-failed' | 'nothing-to-reload' }>;

export interface StartOptions {
  /**
   * Whether to emit an event per chunk ('chunk', 'scheduled'): the bulk of all events, so an
   * output that shows none of them (quiet mode) saves the server building them.
   */
  readonly chunkEvents?: boolean;
  /**
   * Serves `config.metrics` (src/monitor): started once the server listens, closed once its
   * last client has gone. Without it, `config.metrics` is not served.
   */
  readonly monitor?: (server: RunningServer, where: ListenAddress) => Promise<Monitor>;
  /** The web port (`--web`), if served: started with the server, stopped with it. */
  readonly web?: WebPort;
  /** Where the web port listens instead of its configured port: a cluster worker's (see cluster.ts). */
  readonly webPort?: number;
}

/**
 * Another way in for clients: the web port, which src/web implements (this layer may not import
 * it). It accepts WebSocket clients and hands each one's transport to `serve`, where it is
 * counted, capped and served like a TCP client.
 */
export interface WebPort {
  /** Where it is configured to listen. */
  readonly host: string;
  readonly port: number;
  /**
   * Starts listening: on `port` if given, else on the configured one. Its connections go
   * through `accept` first (the PROXY header and TLS, as the clients' port has them), then
   * become HTTP requests and WebSockets.
   */
  listen(serve: (transport: Transport) => void, port: number | undefined, accept: (ready: AcceptHandler['ready']) => AcceptPipeline): Promise<ListeningWebPort>;
}

export interface ListeningWebPort {
  readonly host: string;
  readonly port: number;
  /** Stops accepting; the connections it handed over are the server's to close. */
  close(): Promise<void>;
}

/** Starts listening; resolves once the socket is bound, rejects if it cannot be. */
export async function startServer(config: ServerConfig, sink: ServerEventSink, options: StartOptions = {}): Promise<RunningServer> {
  const sessions = new Set<Session>();
  const stats = new ServerStats();
  const emit: ServerEventSink = (event) => {
    stats.record(event);
    sink(event);
  };
  const streams = new StreamSource(config.seed);
  const admission = new Admission(config.maxClients, config.maxClientsPerAddress);
  let accepted = 0;
  /**
   * Every connection the server reports on gets the next number, served or not, and keeps it:
   * a connection's address object stands for it through the accept stages.
   */
  const peers = new WeakMap<PeerAddress, Peer>();
  const peerOf = (remote: PeerAddress): Peer => {
    let peer = peers.get(remote);
    if (peer === undefined) {
      peer = { id: ++accepted, ...remote };
      peers.set(remote, peer);
    }
    return peer;
  };
  let closing: Promise<void> | undefined;
  /** Set while shutting down: called when the last session has closed. */
  let whenEmpty: (() => void) | undefined;

  // One for every session: a connection costs its own state, not a copy of what all share.
  const scheduler = new Scheduler();
  const context: SessionContext = {
    config,
    scheduler,
    // Chunks that fall due during a turn go out between its shares, not after it.
    turns: new TurnQueue(() => scheduler.fireDue()),
    stats,
    chunkEvents: options.chunkEvents ?? true,
    emit,
    onClosed: (done) => {
      sessions.delete(done as Session);
      admission.remove(done.peer.host);
      if (sessions.size === 0) whenEmpty?.();
    },
  };

  /** A new connection over any transport: served, or refused if the server is full. */
  const serve = (transport: Transport): void => {
    const peer = peerOf(transport.remote);
    if (closing !== undefined) {
      transport.destroy();
      return;
    }
    // The accept is a way in like a session's own: a fault here costs this connection only.
    try {
      const refusal = admission.refusal(sessions.size, peer.host);
      if (refusal !== undefined) {
        refuse(transport, peer, emit, refusal);
        return;
      }
      // Drawn in accept order, so a seed gives the n-th connection the same stream every run.
      const session = new Session(transport, peer, streams.next(config.chars, config.interval, config.alphabet), context);
      sessions.add(session);
      admission.add(peer.host);
      emit({ type: 'accepted', peer, clients: sessions.size });
      session.start();
    } catch (error) {
      dropOnFault(emit, peer, transport, error);
    }
  };

  // Before a session: the PROXY header and the TLS handshake, when configured (see accept.ts).
  const tls = config.tls === undefined ? undefined : new TlsTerminator(config.tls, config.frameTimeoutMs);
  /** The accept stages of a listener, each connection handed to `ready` once it is through them. */
  const acceptStages = (ready: AcceptHandler['ready']): AcceptPipeline =>
    new AcceptPipeline(
    { proxy: config.proxy, tls, deadlineMs: config.frameTimeoutMs },
    {
      ready,
      healthCheck: (remote) => emit({ type: 'health-check', peer: peerOf(remote) }),
      proxyFailed: (remote, error) => emit({ type: 'rejected', peer: peerOf(remote), error }),
      tlsFailed: (remote, error) => emit({ type: 'tls-error', peer: peerOf(remote), error }),
      internalError: (remote, error) => emit({ type: 'internal-error', peer: peerOf(remote), error: error instanceof Error ? error : new Error(String(error)) }),
    },
  );
  const pipeline = acceptStages((socket, remote) => serve(new TcpTransport(socket, remote)));
  // Half-open: a peer's FIN does not end our side before the session has answered what came before it.
  const listener = createServer({ allowHalfOpen: true }, (socket) => pipeline.accept(socket));
  listener.listen({ host: config.host, port: config.port });
  await ListenError.naming('server', config, () => Promise.race([once(listener, 'listening'), once(listener, 'error').then(([error]) => Promise.reject(error as Error))]));
  const address = listener.address() as AddressInfo;
  const running: RunningServer = {
    address,
    get clients() {
      return sessions.size;
    },
    stats: () => stats.snapshot(sessions.size),
    get accepting() {
      return closing === undefined;
    },
    connections: () => sessions,
    onLateness: (observer) => stats.onLateness(observer),
    reload() {
      let outcome: ReloadOutcome;
      try {
        outcome = tls === undefined ? { type: 'nothing-to-reload' } : { type: 'tls-reloaded', certificate: tls.reload() };
      } catch (error) {
        outcome = { type: 'tls-reload-failed', error: error instanceof Error ? error : new Error(String(error)) };
      }
      emit(outcome);
      return outcome;
    },
    close(options: CloseOptions = {}) {
      closing ??= close(options);
      return closing;
    },
  };
  emit({ type: 'listening', host: config.host, port: address.port, family: address.family });
  let monitor: Monitor | undefined;
  let web: ListeningWebPort | undefined;
  try {
    if (options.web !== undefined) {
      const webPort = options.web;
      web = await ListenError.naming('web', { host: webPort.host, port: options.webPort ?? webPort.port }, () => webPort.listen(serve, options.webPort, acceptStages));
    }
    const where = config.metrics;
    const startMonitor = options.monitor;
    if (where !== undefined && startMonitor !== undefined) monitor = await ListenError.naming('metrics', where, () => startMonitor(running, where));
  } catch (error) {
    // A start that fails gives back what it took: the ports, and any connection accepted meanwhile.
    for (const session of sessions) session.destroy();
    await Promise.all([new Promise((resolve) => listener.close(resolve)), web?.close()]);
    throw error;
  }
  if (web !== undefined) emit({ type: 'web', host: web.host, port: web.port, tls: config.tls !== undefined });
  if (monitor !== undefined) emit({ type: 'metrics', host: config.metrics?.host ?? '', port: monitor.address.port });
  const statsTimer =
    config.statsIntervalMs > 0
      ? setInterval(() => emit({ type: 'stats', stats: stats.snapshot(sessions.size), process: processSnapshot() }), config.statsIntervalMs)
      : undefined;

  async function close({ reason = 'server shutting down', signal }: CloseOptions): Promise<void> {
    const stopped = Promise.all([new Promise<void>((resolve) => listener.close(() => resolve())), web?.close()]);
    pipeline.close();
    emit({ type: 'shutdown', reason, signal, clients: sessions.size });
    for (const session of sessions) session.shutdown(reason);
    let forced = 0;
    if (sessions.size > 0) {
      const allClosed = new Promise<void>((resolve) => (whenEmpty = resolve));
      const deadline = new Promise<'timeout'>((resolve) => setTimeout(resolve, config.shutdownTimeoutMs, 'timeout').unref());
      if ((await Promise.race([allClosed, deadline])) === 'timeout') {
        forced = sessions.size;
        for (const session of sessions) session.destroy();
        await allClosed;
      }
    }
    await stopped;
    clearInterval(statsTimer);
    await monitor?.close();
    emit({ type: 'stopped', forced, stats: stats.snapshot(sessions.size) });
  }

  return running;
}

/** Over a connection limit: tell the peer why, then close it; connected clients are untouched. */
function refuse(transport: Transport, peer: Peer, emit: ServerEventSink, error: ProtocolError): void {
  transport.attach(IGNORE_ALL);
  transport.end(encodeServerFrame(MessageType.error, errorContent(error), 0));
  setTimeout(() => transport.destroy(), CLOSE_GRACE_MS).unref();
  emit({ type: 'rejected', peer, error });
}

/** A refused connection's events: nothing more is read from it, and its errors are expected. */
const IGNORE_ALL = { onData() {}, onMessage() {}, onMalformed() {}, onDrain() {}, onEnd() {}, onError() {}, onClose() {} };
