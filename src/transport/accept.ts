import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ProxyHeaderError } from '../protocol/errors.js';
import { ProxyHeaderParser } from '../protocol/proxy-header.js';
import { inRanges, type AddressRange } from './address-range.js';
import { socketAddress } from './tcp.js';
import { TlsHandshakeError, type HandshakeWatcher, type TlsTerminator } from './tls.js';
import type { PeerAddress } from './transport.js';

/**
 * What a new connection goes through before it is a client, in this order: the PROXY protocol
 * header, if the server sits behind a load balancer (the address it carries replaces the
 * socket's from then on), then the TLS handshake, if the port is TLS. Both must be done within
 * one deadline from the accept, so that a peer that opens a connection and says nothing, or
 * trickles, holds it no longer than that. A connection that fails either is closed and
 * reported, and nothing else notices. With neither configured, a connection is ready at once.
 */

export interface ProxySettings {
  /** The sources a header is accepted from: the load balancers. */
  readonly trusted: readonly AddressRange[];
}

export interface AcceptOptions {
  readonly proxy: ProxySettings | undefined;
  readonly tls: TlsTerminator | undefined;
  /** The PROXY header and the handshake must both be done within this time of the accept. */
  readonly deadlineMs: number;
}

/** What becomes of each connection: exactly one of these, once (none for those closed by close()). */
export interface AcceptHandler {
  /** Ready for a session: a TLS socket if the port is TLS, with the client's address. */
  ready(socket: Socket, remote: PeerAddress): void;
  /** A load balancer's health check (a PROXY v2 `LOCAL` header): closed quietly, not a client. */
  healthCheck(remote: PeerAddress): void;
  /** No valid PROXY header in time, or one from an untrusted source: closed. */
  proxyFailed(remote: PeerAddress, error: ProxyHeaderError): void;
  /** The handshake failed or was not done in time: closed. */
  tlsFailed(remote: PeerAddress, error: TlsHandshakeError): void;
  /** A fault of ours in these stages (a bug, not the peer's doing): the connection was dropped. */
  internalError(remote: PeerAddress, error: unknown): void;
}

const Stage = {
  proxy: 0,
  tls: 1,
  /** A health check, reported and ending: waits for the peer's close, or the deadline. */
  ending: 2,
  done: 3,
} as const;
type Stage = (typeof Stage)[keyof typeof Stage];

export class AcceptPipeline {
  readonly #options: AcceptOptions;
  readonly #handler: AcceptHandler;
  readonly #pending = new Set<Pending>();
  /** Whether a connection goes straight to its session. */
  readonly #direct: boolean;

  constructor(options: AcceptOptions, handler: AcceptHandler) {
    this.#options = options;
    this.#handler = handler;
    this.#direct = options.proxy === undefined && options.tls === undefined;
  }

  accept(socket: Socket): void {
    if (this.#direct) {
      this.#handler.ready(socket, socketAddress(socket));
      return;
    }
    const pending = new Pending(this, socket);
    this.#pending.add(pending);
    guarded(pending, start, undefined);
  }

  /** Closes every connection still in the accept stages, quietly: for a server that is stopping. */
  close(): void {
    for (const pending of this.#pending) pending.abandon();
  }

  /** For Pending. */
  get options(): AcceptOptions {
    return this.#options;
  }

  get handler(): AcceptHandler {
    return this.#handler;
  }

  forget(pending: Pending): void {
    this.#pending.delete(pending);
  }
}

/** Where a raw socket keeps its connection's accept state, so that one set of listeners serves all. */
const PENDING = Symbol('pending accept');
type PendingSocket = Socket & { [PENDING]: Pending };

/** One connection between its accept and its session. */
class Pending implements HandshakeWatcher {
  readonly socket: Socket;
  remote: PeerAddress;
  readonly #pipeline: AcceptPipeline;
  #stage: Stage = Stage.proxy;
  #parser: ProxyHeaderParser | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** The socket's error, if one came before its close: a reset says more than a close. */
  #socketError: NodeJS.ErrnoException | undefined;

  constructor(pipeline: AcceptPipeline, socket: Socket) {
    this.#pipeline = pipeline;
    this.socket = socket;
    this.remote = socketAddress(socket);
    (socket as PendingSocket)[PENDING] = this;
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
    this.#timer = setTimeout(onDeadline, pipeline.options.deadlineMs, this);
  }

  start(): void {
    const { proxy } = this.#pipeline.options;
    if (proxy === undefined) {
      this.#startTls();
    } else if (this.socket.remoteAddress === undefined) {
      // Reset before its address could be read: HAProxy's health checks end this way, with a
      // reset straight after their LOCAL header, which the reset discards. Nothing is left to
      // refuse or to report, and a refusal per check would count an error every check interval.
      this.#finish();
      this.socket.destroy();
    } else if (!inRanges(this.remote.host, proxy.trusted)) {
      const trusted = proxy.trusted.map((range) => range.text).join(',');
      this.proxyFailed(new ProxyHeaderError(`${this.remote.host} is not a trusted proxy (--proxy-trusted ${trusted})`));
    } else {
      this.#parser = new ProxyHeaderParser();
      this.socket.on('data', onProxyData);
      // On a half-open listener a FIN alone does not close the socket: it ends the wait too.
      this.socket.on('end', onSocketClose);
    }
  }

  #startTls(): void {
    this.#stage = Stage.tls;
    (this.#pipeline.options.tls as TlsTerminator).handshake(this.socket, this);
  }

  proxyData(chunk: Buffer): void {
    if (this.#stage !== Stage.proxy) return;
    let header;
    try {
      header = (this.#parser as ProxyHeaderParser).push(chunk);
    } catch (error) {
      if (!(error instanceof ProxyHeaderError)) throw error;
      this.proxyFailed(error);
      return;
    }
    if (header === undefined) return;
    const { socket } = this;
    // Whatever came after the header is the next stage's: TLS, or the session's first frame.
    socket.removeListener('data', onProxyData);
    socket.removeListener('end', onSocketClose);
    socket.pause();
    if (header.rest.length > 0) socket.unshift(header.rest);
    this.#parser = undefined;
    if (header.command === 'local') {
      this.#stage = Stage.ending;
      this.#pipeline.handler.healthCheck(this.remote);
      socket.end();
      // Nothing more it sends is read; the deadline closes a peer that never closes.
      socket.resume();
      return;
    }
    if (header.source !== undefined) this.remote = header.source;
    if (this.#pipeline.options.tls !== undefined) {
      this.#startTls();
      return;
    }
    this.#finish();
    // The session attaches its listener now, and the data flows from the next tick.
    socket.resume();
    this.#pipeline.handler.ready(socket, this.remote);
  }

  proxyFailed(error: ProxyHeaderError): void {
    this.#finish();
    this.socket.destroy();
    this.#pipeline.handler.proxyFailed(this.remote, error);
  }

  // The TLS server's news of the handshake, a way in like the socket's events.
  secured(socket: TLSSocket): void {
    guarded(this, Pending.#secured, socket);
  }

  failed(error: TlsHandshakeError): void {
    guarded(this, Pending.#failed, error);
  }

  static #secured(pending: Pending, socket: TLSSocket): void {
    if (pending.#stage !== Stage.tls) {
      socket.destroy();
      return;
    }
    pending.#finish();
    pending.#pipeline.handler.ready(socket, pending.remote);
  }

  static #failed(pending: Pending, error: TlsHandshakeError): void {
    if (pending.#stage !== Stage.tls) return;
    pending.#finish();
    pending.socket.destroy();
    pending.#pipeline.handler.tlsFailed(pending.remote, error);
  }

  deadline(): void {
    this.#timer = undefined;
    const seconds = this.#pipeline.options.deadlineMs / 1000;
    switch (this.#stage) {
      case Stage.proxy:
        this.proxyFailed(new ProxyHeaderError(`${(this.#parser as ProxyHeaderParser).incomplete().message} within ${seconds} s`));
        return;
      case Stage.tls:
        this.failed(new TlsHandshakeError('ERR_TLS_HANDSHAKE_TIMEOUT', `TLS handshake not complete within ${seconds} s`));
        return;
      case Stage.ending:
        this.#finish();
        this.socket.destroy();
        return;
      case Stage.done:
        return;
    }
  }

  socketError(error: NodeJS.ErrnoException): void {
    this.#socketError = error;
  }

  socketClosed(): void {
    switch (this.#stage) {
      case Stage.proxy: {
        const how = this.#socketError?.code === 'ECONNRESET' ? 'was reset' : 'closed';
        this.proxyFailed(new ProxyHeaderError(`${(this.#parser as ProxyHeaderParser).incomplete().message} before the connection ${how}`));
        return;
      }
      case Stage.tls:
        // The TLS server reports a handshake cut short, with its reason, around this close;
        // should it not, the connection must not stay pending.
        setImmediate(() => this.failed(new TlsHandshakeError('ECONNRESET', 'the connection closed during the TLS handshake')));
        return;
      case Stage.ending:
        this.#finish();
        return;
      case Stage.done:
        return;
    }
  }

  /** Closed by the server itself: nothing to report. */
  abandon(): void {
    this.#finish();
    this.socket.destroy();
  }

  /** A fault of ours: whatever the report does (the report may be what failed), the connection goes. */
  fault(error: unknown): void {
    if (this.#stage !== Stage.done) this.#finish();
    this.socket.destroy();
    try {
      this.#pipeline.handler.internalError(this.remote, error);
    } catch {
      // Dropping the connection is all that is left to do.
    }
  }

  /** Leaves the accept stages: no timer, no listener of ours, no registry entry. */
  #finish(): void {
    this.#stage = Stage.done;
    this.#parser = undefined;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const socket = this.socket;
    socket.removeListener('data', onProxyData);
    socket.removeListener('end', onSocketClose);
    socket.removeListener('close', onSocketClose);
    // Its errors are the session's from now on, or expected: a closed connection may still report one.
    socket.removeListener('error', onSocketError);
    socket.on('error', ignore);
    delete (socket as Partial<PendingSocket>)[PENDING];
    this.#pipeline.forget(this);
  }
}

/**
 * Every way into a pending connection runs through here, as every way into a session does: a
 * fault of ours costs this connection only, and never reaches the process.
 */
function guarded<A>(pending: Pending, handler: (pending: Pending, a: A) => void, a: A): void {
  try {
    handler(pending, a);
  } catch (error) {
    pending.fault(error);
  }
}

// Shared listeners, which find their connection on the socket: no closures per connection.
function onProxyData(this: Socket, chunk: Buffer): void {
  guarded((this as PendingSocket)[PENDING], proxyData, chunk);
}
function onSocketError(this: Socket, error: NodeJS.ErrnoException): void {
  (this as PendingSocket)[PENDING].socketError(error);
}
function onSocketClose(this: Socket): void {
  guarded((this as PendingSocket)[PENDING], socketClosed, undefined);
}
function onDeadline(pending: Pending): void {
  guarded(pending, deadline, undefined);
}
const start = (pending: Pending): void => pending.start();
const proxyData = (pending: Pending, chunk: Buffer): void => pending.proxyData(chunk);
const socketClosed = (pending: Pending): void => pending.socketClosed();
const deadline = (pending: Pending): void => pending.deadline();
function ignore(): void {}
