import type { Socket } from 'node:net';
import type { PeerAddress, Transport, TransportHandler } from './transport.js';

/** The transport a socket belongs to, so that one set of listeners serves every socket. */
const TRANSPORT = Symbol('transport');
type TransportSocket = Socket & { [TRANSPORT]: TcpTransport };

/** A plain TCP connection (and, as a net.Socket too, a TLS one). */
export class TcpTransport implements Transport {
  readonly joinsFrames = true;
  readonly kind = 'tcp';
  readonly #socket: Socket;
  /** Where the peer is, when someone else knows better than the socket: a PROXY header's source. */
  readonly #remote: PeerAddress | undefined;
  #handler: TransportHandler | undefined;

  constructor(socket: Socket, remote?: PeerAddress) {
    this.#socket = socket;
    this.#remote = remote;
    // Frames are small and each one is meant to arrive now, not when Nagle decides.
    socket.setNoDelay(true);
  }

  get remote(): PeerAddress {
    return this.#remote ?? socketAddress(this.#socket);
  }

  write(data: Buffer): boolean {
    return this.#socket.write(data);
  }

  writeAll(pieces: readonly Uint8Array[]): boolean {
    // Corked, the socket gathers the pieces and hands them to the system in one writev.
    const socket = this.#socket;
    socket.cork();
    let room = true;
    for (const piece of pieces) room = socket.write(piece);
    socket.uncork();
    return room;
  }

  get needsDrain(): boolean {
    return this.#socket.writableNeedDrain;
  }

  get writable(): boolean {
    return this.#socket.writable;
  }

  get queuedBytes(): number {
    return this.#socket.writableLength;
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
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  end(last?: Buffer): void {
    if (last === undefined) this.#socket.end();
    else this.#socket.end(last);
  }

  destroy(): void {
    this.#socket.destroy();
  }

  attach(handler: TransportHandler): void {
    this.#handler = handler;
    const socket = this.#socket as TransportSocket;
    socket[TRANSPORT] = this;
    socket.on('data', onData);
    socket.on('drain', onDrain);
    socket.on('end', onEnd);
    socket.on('error', onError);
    socket.on('close', onClose);
  }

  static handlerOf(socket: Socket): TransportHandler {
    return (socket as TransportSocket)[TRANSPORT].#handler as TransportHandler;
  }
}

/** The peer's address as the socket has it; a socket reset before we look at it has none. */
export function socketAddress(socket: Socket): PeerAddress {
  return { host: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0, family: socket.remoteFamily ?? 'IPv4' };
}

// Shared listeners, which find their connection on the socket: no closures per connection.
function onData(this: Socket, data: Buffer): void {
  TcpTransport.handlerOf(this).onData(data);
}
function onDrain(this: Socket): void {
  TcpTransport.handlerOf(this).onDrain();
}
function onEnd(this: Socket): void {
  TcpTransport.handlerOf(this).onEnd();
}
function onError(this: Socket, error: NodeJS.ErrnoException): void {
  TcpTransport.handlerOf(this).onError(error);
}
function onClose(this: Socket): void {
  TcpTransport.handlerOf(this).onClose();
}
