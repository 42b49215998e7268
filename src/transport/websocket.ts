import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { ErrorCode, MessageTypeError, ProtocolError } from '../protocol/errors.js';
import { MessageType } from '../protocol/frame.js';
import { readServerFrame, serverFrameText, textRequestFrame } from '../protocol/text-form.js';
import type { PeerAddress, Transport, TransportHandler } from './transport.js';

/**
 * The web port's two forms (PROTOCOL.md, "WebSocket"): `binary` carries each frame byte for
 * byte as one binary message; `text` turns each server frame into a line of text and each text
 * message into the request frame it stands for, for generic tools.
 */
export type WebSocketForm = 'binary' | 'text';

/** Close codes of RFC 6455 that the web port uses. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  unsupportedData: 1003,
  policyViolation: 1008,
  messageTooBig: 1009,
  tryAgainLater: 1013,
} as const;

/** A close frame's reason is at most 123 bytes. */
const MAX_REASON_BYTES = 123;

/** The transport a WebSocket or its socket belongs to, so that one set of listeners serves every connection. */
const TRANSPORT = Symbol('transport');
type Tagged<T> = T & { [TRANSPORT]: WebSocketTransport };

export interface WebSocketTransportOptions {
  readonly form: WebSocketForm;
  /** The largest message the WebSocket accepts (its maxPayload), for the error that names it. */
  readonly maxMessageBytes: number;
  /** Where dead peers are looked for; the transport leaves it when it closes. */
  readonly heartbeat?: Heartbeat;
  /** The client's address when it is not the socket's own: the one a PROXY header carried. */
  readonly remote?: PeerAddress;
}

/**
 * One client on the web port, over a `ws` WebSocket, with the face every transport gives the
 * session. Backpressure is the underlying socket's: `ws` writes each message to it at once, so
 * the socket's buffer is the WebSocket's buffered amount, its high-water mark says when to stop
 * and its 'drain' when to go on. The socket is the one the HTTP upgrade handed over.
 */
export class WebSocketTransport implements Transport {
  readonly kind = 'ws';
  readonly joinsFrames = false;
  readonly #ws: WebSocket;
  readonly #socket: Socket;
  readonly #text: boolean;
  readonly #maxMessageBytes: number;
  readonly #heartbeat: Heartbeat | undefined;
  readonly #remote: PeerAddress | undefined;
  #handler: TransportHandler | undefined;
  #paused = false;
  /** Messages that came while reading was paused (the rest of one read, at most), in order. */
  #held: Buffer[] | undefined;
  /** We ended or destroyed the connection: its close is not the peer's doing. */
  #closedByUs = false;
  /** Whether the peer answered the last ping (see Heartbeat). */
  #alive = true;

  constructor(ws: WebSocket, socket: Socket, options: WebSocketTransportOptions) {
    this.#ws = ws;
    this.#socket = socket;
    this.#text = options.form === 'text';
    this.#maxMessageBytes = options.maxMessageBytes;
    this.#heartbeat = options.heartbeat;
    this.#remote = options.remote;
  }

  get remote(): PeerAddress {
    const socket = this.#socket;
    return this.#remote ?? { host: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0, family: socket.remoteFamily ?? 'IPv4' };
  }

  write(frame: Buffer): boolean {
    if (this.#ws.readyState !== WebSocket.OPEN) return false;
    this.#ws.send(this.#text ? serverFrameText(frame) : frame);
    return !this.#socket.writableNeedDrain;
  }

  get needsDrain(): boolean {
    return this.#socket.writableNeedDrain;
  }

  get writable(): boolean {
    return this.#ws.readyState === WebSocket.OPEN;
  }

  get queuedBytes(): number {
    return this.#ws.bufferedAmount;
  }

  get bytesRead(): number {
    return this.#socket.bytesRead;
  }

  get bytesWritten(): number {
    return this.#socket.bytesWritten;
  }

  cork(): void {
    this.#socket.cork();
  }

  uncork(): void {
    this.#socket.uncork();
  }

  pause(): void {
    this.#paused = true;
    this.#ws.pause();
  }

  resume(): void {
    this.#paused = false;
    this.#ws.resume();
    // Later, as a socket delivers data after resume(): never inside the session's own call.
    if (this.#held !== undefined) setImmediate(WebSocketTransport.#deliverHeld, this);
  }

  /** Sends `last`, then closes with the code that `last` calls for (an error's, a shutdown's). */
  end(last?: Buffer): void {
    if (this.#ws.readyState !== WebSocket.OPEN) return;
    this.#closedByUs = true;
    if (last !== undefined) this.#ws.send(this.#text ? serverFrameText(last) : last);
    const { code, reason } = closeFor(last);
    this.#ws.close(code, reason);
  }

  destroy(): void {
    this.#closedByUs = true;
    this.#ws.terminate();
  }

  attach(handler: TransportHandler): void {
    this.#handler = handler;
    const ws = this.#ws as Tagged<WebSocket>;
    const socket = this.#socket as Tagged<Socket>;
    ws[TRANSPORT] = this;
    socket[TRANSPORT] = this;
    ws.on('message', WebSocketTransport.#onMessage);
    ws.on('pong', WebSocketTransport.#onPong);
    ws.on('error', WebSocketTransport.#onError);
    ws.on('close', WebSocketTransport.#onClose);
    socket.on('drain', WebSocketTransport.#onDrain);
    this.#heartbeat?.watch(this);
  }

  /**
   * One beat of the heartbeat: a peer that has not answered the last ping is gone. A peer whose
   * buffer is full is left to the slow-consumer rule: its answer waits behind our data.
   */
  beat(intervalMs: number): void {
    if (this.#ws.readyState !== WebSocket.OPEN) return;
    if (this.#socket.writableNeedDrain) {
      this.#alive = true;
      return;
    }
    if (!this.#alive) {
      const error: NodeJS.ErrnoException = new Error(`no answer to a ping within ${intervalMs / 1000} s`);
      error.code = 'ETIMEDOUT';
      this.#handler?.onError(error);
      this.destroy();
      return;
    }
    this.#alive = false;
    this.#ws.ping();
  }

  #message(data: Buffer, isBinary: boolean): void {
    const handler = this.#handler as TransportHandler;
    if (isBinary === this.#text) {
      handler.onMalformed(new MessageTypeError(this.#text ? 'text' : 'binary'));
      return;
    }
    const frame = this.#text ? textRequestFrame(data) : data;
    if (this.#paused || this.#held !== undefined) {
      (this.#held ??= []).push(frame);
      return;
    }
    handler.onMessage(frame);
  }

  static #deliverHeld(this: void, transport: WebSocketTransport): void {
    const held = transport.#held;
    while (held !== undefined && held.length > 0 && !transport.#paused) {
      (transport.#handler as TransportHandler).onMessage(held.shift() as Buffer);
    }
    if (held?.length === 0) transport.#held = undefined;
  }

  // Shared listeners, which find their connection on the WebSocket or the socket: no closures
  // per connection.

  static #onMessage(this: WebSocket, data: Buffer, isBinary: boolean): void {
    (this as Tagged<WebSocket>)[TRANSPORT].#message(data, isBinary);
  }

  static #onPong(this: WebSocket): void {
    (this as Tagged<WebSocket>)[TRANSPORT].#alive = true;
  }

  static #onError(this: WebSocket, error: NodeJS.ErrnoException): void {
    const transport = (this as Tagged<WebSocket>)[TRANSPORT];
    const handler = transport.#handler as TransportHandler;
    // `ws` refuses a message over its maxPayload itself (close 1009); to the session it is a
    // request over the limits it was given.
    if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      handler.onMalformed(new ProtocolError(ErrorCode.contentTooLong, `message over the limit of ${transport.#maxMessageBytes} bytes`));
    } else {
      handler.onError(error);
    }
  }

  static #onClose(this: WebSocket): void {
    const transport = (this as Tagged<WebSocket>)[TRANSPORT];
    transport.#heartbeat?.forget(transport);
    const handler = transport.#handler as TransportHandler;
    if (!transport.#closedByUs) handler.onEnd();
    handler.onClose();
  }

  static #onDrain(this: Socket): void {
    (this as Tagged<Socket>)[TRANSPORT].#handler?.onDrain();
  }
}

/**
 * The close that the session's last frame calls for (PROTOCOL.md, "Close codes"): a shutdown
 * 1001; a request over a limit 1009; a server that is full 1013; a text message where binary
 * is expected (or the reverse) 1003; any other error 1008. The reason names the error's code.
 */
export function closeFor(last: Buffer | undefined): { code: number; reason: string } {
  if (last === undefined) return { code: CloseCode.normal, reason: '' };
  const { type, content } = readServerFrame(last);
  const reason = content.subarray(0, MAX_REASON_BYTES).toString('latin1');
  if (type === MessageType.shutdown) return { code: CloseCode.goingAway, reason };
  if (type !== MessageType.error) return { code: CloseCode.normal, reason: '' };
  // An error frame's content starts with its code (errorContent).
  switch (reason.split(':', 1)[0]) {
    case ErrorCode.headerTooLong:
    case ErrorCode.contentTooLong:
      return { code: CloseCode.messageTooBig, reason };
    case ErrorCode.serverFull:
      return { code: CloseCode.tryAgainLater, reason };
    case ErrorCode.messageType:
      return { code: CloseCode.unsupportedData, reason };
    default:
      return { code: CloseCode.policyViolation, reason };
  }
}

/**
 * Finds peers that are gone without a word (a laptop closed, a network cut): every interval,
 * each WebSocket that did not answer the previous ping is closed, and the others are pinged.
 * One timer for all of them.
 */
export class Heartbeat {
  readonly #transports = new Set<WebSocketTransport>();
  readonly #intervalMs: number;
  readonly #timer: NodeJS.Timeout;

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
    this.#timer = setInterval(() => this.#beat(), intervalMs).unref();
  }

  watch(transport: WebSocketTransport): void {
    this.#transports.add(transport);
  }

  forget(transport: WebSocketTransport): void {
    this.#transports.delete(transport);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #beat(): void {
    for (const transport of this.#transports) {
      try {
        transport.beat(this.#intervalMs);
      } catch {
        // A connection that cannot be pinged is closing anyway; the others still get their beat.
      }
    }
  }
}
