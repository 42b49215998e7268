import type { ProtocolError } from '../protocol/errors.js';

/** The peer's address as its transport reports it. */
export interface PeerAddress {
  readonly host: string;
  readonly port: number;
  readonly family: string;
}

/**
 * What a transport tells the connection it carries. One object rather than a set of callbacks,
 * so that a connection costs no closures: with tens of thousands of them, that memory is better
 * spent elsewhere.
 */
export interface TransportHandler {
  /** Bytes of a stream (TCP): any part of a frame, exactly one, or many. */
  onData(data: Buffer): void;
  /** One whole message of a transport that carries a frame per message (WebSocket): it must be exactly one frame. */
  onMessage(message: Buffer): void;
  /** The peer broke a rule of the transport itself (a text message where frames are expected): tell it why and close. */
  onMalformed(error: ProtocolError): void;
  /** The buffer has room again after a write that said it was full. */
  onDrain(): void;
  /** The peer ended its side. */
  onEnd(): void;
  onError(error: NodeJS.ErrnoException): void;
  /** The connection is gone; the last event. */
  onClose(): void;
}

/**
 * One client connection as the server's session sees it, whatever carries it: a TCP socket,
 * a TLS socket or a WebSocket. The session never learns which, so every transport gets the
 * same schedule, statistics, limits, backpressure and closing from the same code.
 */
export interface Transport {
  /**
   * What carries the connection ('tcp', 'ws', …): for the monitor, which counts and lists
   * clients by it. The session itself never looks.
   */
  readonly kind: string;
  /** Where the peer is; a peer that is already gone still gets a printable address. */
  readonly remote: PeerAddress;
  /**
   * Whether frames written back to back may leave in one write (a byte stream: TCP). A
   * transport that sends each write as one message (WebSocket) says false, and gets one frame
   * per write: a frame is never joined with another.
   */
  readonly joinsFrames: boolean;
  /**
   * Queues bytes for the peer. Returns false once the buffer is past its high-water mark: the
   * bytes are still queued, and `onDrain` says when there is room again.
   */
  write(data: Buffer): boolean;
  /**
   * Queues pieces to go back to back, as one write of their bytes, without copying them: each
   * piece stays in use until `queuedBytes` is back to 0, and its memory must not change till
   * then. Returns what `write` would. Only a transport that joins frames has it.
   */
  writeAll?(pieces: readonly Uint8Array[]): boolean;
  /** Whether a write said the buffer was full and no drain has come since. */
  readonly needsDrain: boolean;
  /** False once our side is ended or the connection destroyed: writes go nowhere. */
  readonly writable: boolean;
  /** Bytes queued and not yet handed to the network. */
  readonly queuedBytes: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
  /** Between cork and uncork, writes are gathered and leave together: one system call for many frames. */
  cork(): void;
  uncork(): void;
  /** Stops reading from the peer (and delivering onData) until resume. */
  pause(): void;
  resume(): void;
  /** Sends `last`, if given, then ends our side; the peer may still be reading. */
  end(last?: Buffer): void;
  /** Closes at once, whatever is queued. */
  destroy(): void;
  /** Starts delivering the connection's events to `handler`; called once. */
  attach(handler: TransportHandler): void;
}
