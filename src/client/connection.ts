import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { FrameDecoder } from '../protocol/decoder.js';
import { ProtocolError } from '../protocol/errors.js';
import { MessageType, SERVER_HEADER_KEYS, STATISTICS_REQUEST, type Frame } from '../protocol/frame.js';
import { encodeClientRequest, messageTypeOf, readStatisticsCount } from '../protocol/messages.js';
import type { ClientConfig, ClientTlsConfig } from './config.js';
import type { ClientEventSink, OutputFlow, Target } from './events.js';
import { certificateSummary, checkedName, isTlsHandshakeError, tlsConnectOptions, verificationError } from './tls.js';

/** How a connection ended, which decides the exit code (or a reconnect). */
export type ConnectionEndKind =
  /** We closed it (a quit key, a signal). */
  | 'closed'
  /** The server said it was shutting down; however the connection ended after that. */
  | 'shutdown'
  /** Closed, reset, broken or gone silent on the server's side, without a shutdown frame. */
  | 'lost'
  /** Never established. */
  | 'refused'
  /**
   * The server's certificate did not verify, or the server refused our handshake: a setting to
   * fix (a CA, a name, a client certificate), or someone in between, which no wait mends.
   */
  | 'tls-failed';

export interface ConnectionEnd {
  readonly kind: ConnectionEndKind;
  /**
   * Whether the connection was worth something: it delivered a chunk or an answer, or stayed
   * up for a while. Only such a connection resets the backoff; one accepted and dropped at
   * once, or refused with `ERR_SERVER_FULL`, counts as one more failure.
   */
  readonly delivered: boolean;
  /** Statistics asked for and never written to the socket. */
  readonly unsent: number;
}

/** How long a quitting client waits for the server to close its side before letting go. */
const CLOSE_WAIT_MS = 1_000;
/** A connection up this long counts as delivered, chunk or not: a server may have long waits. */
const STABLE_CONNECTION_MS = 10_000;
/** Idle time before the system's keepalive probes start: a peer that vanished is found. */
const KEEPALIVE_DELAY_MS = 15_000;
const STATISTICS_FRAME = encodeClientRequest(STATISTICS_REQUEST);
const STATISTICS_CONTENT = Buffer.from(STATISTICS_REQUEST, 'latin1');

/**
 * One TCP connection to the server: frames in, requests out, and the client's own count of
 * symbols since the last answer. Every answer is checked against that count: the protocol
 * promises the two are equal.
 *
 * Requests asked for before the connection is up wait for it. Requests are written only while
 * the socket takes them: against a server that does not read, presses beyond that ask for one
 * more answer, not one each, so nothing grows whatever the rate of the keys.
 */
export class ClientConnection {
  readonly #socket: Socket;
  readonly #tls: ClientTlsConfig | undefined;
  readonly #target: Target;
  readonly #emit: ClientEventSink;
  readonly #flow: OutputFlow;
  readonly #decoder: FrameDecoder;
  readonly #onEnd: (end: ConnectionEnd) => void;
  readonly #idleTimeoutMs: number | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #connectedAt: number | undefined;
  #ended = false;
  #paused = false;
  #shutdownReceived = false;
  #errorReceived = false;
  #delivered = false;
  #counted = 0;
  /** Requests asked for, not yet written. */
  #unsent = 0;
  /** Requests written, not yet answered. */
  #awaiting = 0;
  readonly #settleWaiters = new Set<() => void>();

  constructor(config: ClientConfig, target: Target, emit: ClientEventSink, flow: OutputFlow, onEnd: (end: ConnectionEnd) => void) {
    this.#target = target;
    this.#emit = emit;
    this.#flow = flow;
    this.#onEnd = onEnd;
    this.#idleTimeoutMs = config.idleTimeoutMs;
    this.#decoder = new FrameDecoder({
      maxHeaderLength: config.maxHeaderLength,
      maxContentLength: config.maxContentLength,
      requiredKeys: SERVER_HEADER_KEYS,
    });
    emit({ type: 'starting', target });
    this.#tls = config.tls;
    const socket =
      config.tls === undefined ? connect({ host: config.host, port: config.port }) : tlsConnect(tlsConnectOptions(config.host, config.port, config.tls));
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, KEEPALIVE_DELAY_MS);
    socket.on(config.tls === undefined ? 'connect' : 'secureConnect', this.#onConnect);
    socket.on('data', this.#onData);
    socket.on('drain', this.#flush);
    socket.on('end', this.#onServerEnd);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    this.#armIdleTimer();
  }

  /** Whether the connection was ever established (the closing line is about a real connection). */
  get established(): boolean {
    return this.#connectedAt !== undefined;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Asks for `count` statistics answers: sent now, or once the connection is up. */
  requestStatistics(count = 1): void {
    if (this.#ended || count <= 0) return;
    this.#unsent += count;
    this.#flush();
  }

  /**
   * Resolves once every answer asked for has come, or the connection has ended, or after
   * `timeoutMs`: quitting right after `s` still shows the answer, and a server that never
   * answers cannot hold the client.
   */
  settle(timeoutMs: number): Promise<void> {
    if (this.#isSettled()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#settleWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#settleWaiters.add(done);
    });
  }

  /** Closes our side and resolves once the socket is closed (or after a short wait). */
  close(): Promise<void> {
    this.#end('closed');
    if (this.#socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.#socket.once('close', () => resolve());
      // Read on (and discard) to the server's end of stream, even if paused for the output.
      this.#socket.resume();
      this.#socket.end();
      setTimeout(() => this.#socket.destroy(), CLOSE_WAIT_MS).unref();
    });
  }

  readonly #onConnect = (): void => {
    // Closed while connecting (a quit before the connection came): nothing to announce.
    if (this.#ended) return;
    if (this.#tls !== undefined && !this.#trusts(this.#socket as TLSSocket, this.#tls)) return;
    this.#connectedAt = performance.now();
    const socket = this.#socket;
    this.#emit({
      type: 'connected',
      target: this.#target,
      local: `${socket.localAddress ?? '?'}:${socket.localPort ?? 0}`,
      remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`,
    });
    this.#emit({ type: 'hint' });
    this.#flush();
  };

  /** Whether to go on with this server: verified, or `--insecure` (said every time). */
  #trusts(socket: TLSSocket, tls: ClientTlsConfig): boolean {
    const code = verificationError(socket);
    const name = checkedName(this.#target.host, tls);
    const certificate = certificateSummary(socket);
    if (tls.insecure) {
      this.#emit({ type: 'tls-insecure', target: this.#target, name, code, certificate });
      return true;
    }
    if (code === undefined) return true;
    this.#emit({ type: 'tls-untrusted', target: this.#target, name, code, certificate });
    this.#end('tls-failed');
    socket.destroy();
    return false;
  }

  readonly #flush = (): void => {
    if (this.#connectedAt === undefined || this.#ended) return;
    while (this.#unsent > 0 && !this.#socket.writableNeedDrain) {
      this.#unsent--;
      this.#awaiting++;
      this.#emit({ type: 'request', target: this.#target, request: STATISTICS_CONTENT, frame: STATISTICS_FRAME });
      this.#socket.write(STATISTICS_FRAME);
    }
    // The socket takes no more for now: the presses waiting ask for one more answer between them.
    this.#unsent = Math.min(this.#unsent, 1);
  };

  readonly #onData = (data: Buffer): void => {
    if (this.#ended) return;
    try {
      this.#decoder.push(data, this.#onFrame);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      // A hostile or broken server costs us this connection, nothing more.
      this.#emit({ type: 'protocol-error', error });
      this.#end('lost');
      this.#socket.destroy();
      return;
    }
    if (!this.#ended && !this.#paused && this.#flow.full) this.#pauseUntilDrained();
  };

  /**
   * The output is behind: stop reading until it catches up. The server then sees a slow
   * reader, which is what we are; the idle timer stops too, since the silence is ours.
   */
  #pauseUntilDrained(): void {
    this.#paused = true;
    this.#socket.pause();
    clearTimeout(this.#idleTimer);
    this.#flow.whenDrained(() => {
      this.#paused = false;
      if (this.#ended) return;
      this.#socket.resume();
      this.#armIdleTimer();
    });
  }

  readonly #onFrame = (frame: Frame): void => {
    if (this.#ended) return;
    this.#idleTimer?.refresh();
    const messageType = messageTypeOf(frame);
    this.#emit({ type: 'frame', target: this.#target, frame, messageType });
    switch (messageType) {
      case MessageType.symbols:
        this.#delivered = true;
        this.#counted += frame.content.length;
        break;
      case MessageType.statistics: {
        this.#delivered = true;
        this.#awaiting = Math.max(0, this.#awaiting - 1);
        const reported = readStatisticsCount(frame.content);
        if (typeof reported === 'number') this.#emit({ type: 'statistics', reported, counted: this.#counted });
        else this.#emit({ type: 'bad-statistics', error: reported, counted: this.#counted });
        // The server reset its count when it answered, readable or not: so does ours.
        this.#counted = 0;
        this.#checkSettled();
        break;
      }
      case MessageType.error:
        this.#errorReceived = true;
        this.#emit({ type: 'server-error', reason: frame.content });
        break;
      case MessageType.shutdown:
        this.#shutdownReceived = true;
        this.#emit({ type: 'shutdown', reason: frame.content });
        break;
    }
  };

  /** After an error or a shutdown frame the server has said why it goes: how it goes is no news. */
  get #explained(): boolean {
    return this.#shutdownReceived || this.#errorReceived;
  }

  get #serverEnd(): ConnectionEndKind {
    return this.#shutdownReceived ? 'shutdown' : 'lost';
  }

  readonly #onServerEnd = (): void => {
    if (this.#ended) return;
    if (!this.#explained) this.#emit({ type: 'peer-closed' });
    this.#end(this.#serverEnd);
  };

  readonly #onError = (error: NodeJS.ErrnoException): void => {
    if (this.#ended) return;
    // With TLS 1.3 a server refuses a client certificate after our side of the handshake is
    // done: an alert before the first frame is still the handshake's failure.
    if (this.#tls !== undefined && !this.#delivered && isTlsHandshakeError(error)) {
      this.#emit({ type: 'tls-failed', target: this.#target, error });
      this.#end('tls-failed');
      return;
    }
    if (this.#connectedAt !== undefined) {
      if (!this.#explained) this.#emit({ type: 'connection-error', error });
      this.#end(this.#serverEnd);
    } else {
      this.#emit({ type: 'connect-failed', target: this.#target, error });
      this.#end('refused');
    }
  };

  readonly #onClose = (): void => {
    // A close with no FIN and no error seen (rare): still an end.
    this.#end(this.#serverEnd);
  };

  #armIdleTimer(): void {
    if (this.#idleTimeoutMs === undefined) return;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(this.#onIdle, this.#idleTimeoutMs);
  }

  readonly #onIdle = (): void => {
    if (this.#ended) return;
    const connected = this.#connectedAt !== undefined;
    this.#emit({ type: 'idle-timeout', target: this.#target, seconds: (this.#idleTimeoutMs ?? 0) / 1000, connected });
    this.#end(connected ? 'lost' : 'refused');
    this.#socket.destroy();
  };

  #isSettled(): boolean {
    return this.#ended || (this.#unsent === 0 && this.#awaiting === 0);
  }

  #checkSettled(): void {
    if (!this.#isSettled()) return;
    for (const done of [...this.#settleWaiters]) done();
  }

  #end(kind: ConnectionEndKind): void {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#idleTimer);
    const upFor = this.#connectedAt === undefined ? 0 : performance.now() - this.#connectedAt;
    const delivered = this.#delivered || upFor >= STABLE_CONNECTION_MS;
    this.#onEnd({ kind, delivered, unsent: this.#unsent });
    this.#checkSettled();
  }
}
