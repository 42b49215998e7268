import { connect, type Socket } from 'node:net';
import { FrameDecoder } from '../protocol/decoder.js';
import { ProtocolError } from '../protocol/errors.js';
import { MessageType, SERVER_HEADER_KEYS, STATISTICS_REQUEST, type Frame } from '../protocol/frame.js';
import { encodeClientRequest, messageTypeOf, parseStatistics } from '../protocol/messages.js';
import type { ClientConfig } from './config.js';
import type { ClientEventSink, Target } from './events.js';

/** How a connection ended, which decides the exit code (or a reconnect). */
export type ConnectionEnd =
  /** We closed it (a quit key, a signal). */
  | 'closed'
  /** The server said it was shutting down, then closed. */
  | 'shutdown'
  /** Closed, reset or broken by the server without a shutdown frame. */
  | 'lost'
  /** Never established. */
  | 'refused';

/** How long a quitting client waits for the server to close its side before letting go. */
const CLOSE_WAIT_MS = 1_000;
const STATISTICS_FRAME = encodeClientRequest(STATISTICS_REQUEST);
const STATISTICS_CONTENT = Buffer.from(STATISTICS_REQUEST, 'latin1');

/**
 * One TCP connection to the server: frames in, requests out, and the client's own count of
 * symbols since the last answer. Every answer is checked against that count: the protocol
 * promises the two are equal.
 */
export class ClientConnection {
  readonly #socket: Socket;
  readonly #target: Target;
  readonly #emit: ClientEventSink;
  readonly #decoder: FrameDecoder;
  readonly #onEnd: (end: ConnectionEnd) => void;
  #connected = false;
  #ended = false;
  #shutdownReceived = false;
  #counted = 0;

  constructor(config: ClientConfig, target: Target, emit: ClientEventSink, onEnd: (end: ConnectionEnd) => void) {
    this.#target = target;
    this.#emit = emit;
    this.#onEnd = onEnd;
    this.#decoder = new FrameDecoder({
      maxHeaderLength: config.maxHeaderLength,
      maxContentLength: config.maxContentLength,
      requiredKeys: SERVER_HEADER_KEYS,
    });
    emit({ type: 'starting', target });
    const socket = connect({ host: config.host, port: config.port });
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('connect', this.#onConnect);
    socket.on('data', this.#onData);
    socket.on('end', this.#onServerEnd);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
  }

  get connected(): boolean {
    return this.#connected && !this.#ended;
  }

  requestStatistics(): void {
    if (this.#ended) return;
    this.#emit({ type: 'request', target: this.#target, request: STATISTICS_CONTENT, frame: STATISTICS_FRAME });
    this.#socket.write(STATISTICS_FRAME);
  }

  /** Closes our side and resolves once the socket is closed (or after a short wait). */
  close(): Promise<void> {
    this.#end('closed');
    if (this.#socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.#socket.once('close', () => resolve());
      this.#socket.end();
      setTimeout(() => this.#socket.destroy(), CLOSE_WAIT_MS).unref();
    });
  }

  readonly #onConnect = (): void => {
    this.#connected = true;
    const socket = this.#socket;
    this.#emit({
      type: 'connected',
      target: this.#target,
      local: `${socket.localAddress ?? '?'}:${socket.localPort ?? 0}`,
      remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`,
    });
    this.#emit({ type: 'hint' });
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
    }
  };

  readonly #onFrame = (frame: Frame): void => {
    if (this.#ended) return;
    const messageType = messageTypeOf(frame);
    this.#emit({ type: 'frame', target: this.#target, frame, messageType });
    switch (messageType) {
      case MessageType.symbols:
        this.#counted += frame.content.length;
        break;
      case MessageType.statistics: {
        const reported = parseStatistics(frame.content);
        if (reported !== undefined) this.#emit({ type: 'statistics', reported, counted: this.#counted });
        this.#counted = 0;
        break;
      }
      case MessageType.error:
        this.#emit({ type: 'server-error', reason: frame.content.toString('latin1') });
        break;
      case MessageType.shutdown:
        this.#shutdownReceived = true;
        this.#emit({ type: 'shutdown', reason: frame.content.toString('latin1') });
        break;
    }
  };

  readonly #onServerEnd = (): void => {
    if (this.#ended) return;
    if (!this.#shutdownReceived) this.#emit({ type: 'peer-closed' });
    this.#end(this.#shutdownReceived ? 'shutdown' : 'lost');
  };

  readonly #onError = (error: NodeJS.ErrnoException): void => {
    if (this.#ended) return;
    if (this.#connected) {
      this.#emit({ type: 'connection-error', error });
      this.#end('lost');
    } else {
      this.#emit({ type: 'connect-failed', target: this.#target, error });
      this.#end('refused');
    }
  };

  readonly #onClose = (): void => {
    // A close with no FIN and no error seen (rare): still an end.
    this.#end(this.#shutdownReceived ? 'shutdown' : 'lost');
  };

  #end(end: ConnectionEnd): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#onEnd(end);
  }
}
