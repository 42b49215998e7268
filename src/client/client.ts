import { connect, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { FrameDecoder } from '../protocol/decoder.js';
import { ProtocolError } from '../protocol/errors.js';
import { MessageType, SERVER_HEADER_KEYS, type Frame } from '../protocol/frame.js';
import { encodeClientRequest, messageTypeOf, parseStatistics } from '../protocol/messages.js';
import { addressRepr } from '../output/python-repr.js';
import type { ClientConfig } from './config.js';
import type { ClientEventSink, Target } from './events.js';
import { readKeys, type KeySource } from './key-input.js';
import { keyAction } from './keys.js';

/** Exit codes the client ends with, by cause. */
export const ClientExit = {
  ok: 0,
  /** The server went away without a shutdown frame, or could not be reached. */
  connectionLost: 1,
  interrupted: 130,
} as const;

/** How long a quitting client waits for the server to close its side before letting go. */
const CLOSE_WAIT_MS = 1_000;

export interface ClientIo {
  readonly stdin: Readable;
  readonly emit: ClientEventSink;
}

export interface RunningClient {
  /** Resolves with the exit code once the connection is closed and the keys are released. */
  readonly done: Promise<number>;
  /** Ends the session from outside (a signal, a closed stdout) with the given exit code. */
  stop(code: number): void;
}

/**
 * One interactive session: connect, show every frame, turn key presses into requests.
 *
 * The count of symbols received since the last answer is kept here too, and every answer is
 * checked against it: the protocol promises that the two are equal.
 */
export function runClient(config: ClientConfig, io: ClientIo): RunningClient {
  const { emit } = io;
  const target: Target = { host: config.host, port: config.port, label: addressRepr(config.host, config.port) };
  const decoder = new FrameDecoder({
    maxHeaderLength: config.maxHeaderLength,
    maxContentLength: config.maxContentLength,
    requiredKeys: SERVER_HEADER_KEYS,
  });
  let counted = 0;
  let connected = false;
  let finished = false;
  /** A shutdown frame turns the server's close into a clean end. */
  let shutdownReceived = false;
  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));

  emit({ type: 'starting', target });
  const socket: Socket = connect({ host: config.host, port: config.port });
  socket.setNoDelay(true);

  socket.on('connect', () => {
    connected = true;
    emit({
      type: 'connected',
      target,
      local: `${socket.localAddress ?? '?'}:${socket.localPort ?? 0}`,
      remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`,
    });
    emit({ type: 'hint' });
  });

  socket.on('data', (data: Buffer) => {
    if (finished) return;
    try {
      decoder.push(data, onFrame);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      emit({ type: 'protocol-error', error });
      finish(ClientExit.connectionLost);
    }
  });

  socket.on('end', () => {
    if (finished) return;
    if (shutdownReceived) {
      finish(ClientExit.ok);
      return;
    }
    emit({ type: 'peer-closed' });
    finish(ClientExit.connectionLost);
  });

  socket.on('error', (error: NodeJS.ErrnoException) => {
    if (finished) return;
    if (connected) emit({ type: 'connection-error', error });
    else emit({ type: 'connect-failed', target, error });
    finish(ClientExit.connectionLost, connected);
  });

  function onFrame(frame: Frame): void {
    if (finished) return;
    const messageType = messageTypeOf(frame);
    emit({ type: 'frame', target, frame, messageType });
    switch (messageType) {
      case MessageType.symbols:
        counted += frame.content.length;
        break;
      case MessageType.statistics: {
        const reported = parseStatistics(frame.content);
        if (reported !== undefined) emit({ type: 'statistics', reported, counted });
        counted = 0;
        break;
      }
      case MessageType.error:
        emit({ type: 'server-error', reason: frame.content.toString('latin1') });
        break;
      case MessageType.shutdown:
        shutdownReceived = true;
        emit({ type: 'shutdown', reason: frame.content.toString('latin1') });
        break;
    }
  }

  const keys: KeySource = readKeys(io.stdin, onKey, () => {
    // End of a script's input stops the keys, not the session: the stream goes on.
  });

  function onKey(key: string): void {
    if (finished) return;
    switch (keyAction(key, keys.fromTerminal)) {
      case 'statistics': {
        const request = Buffer.from('s');
        const frame = encodeClientRequest('s');
        emit({ type: 'request', target, request, frame });
        socket.write(frame);
        break;
      }
      case 'quit':
        finish(ClientExit.ok);
        break;
      case 'interrupt':
        finish(ClientExit.interrupted);
        break;
      case 'hint':
        emit({ type: 'hint' });
        break;
      case 'ignore':
        break;
    }
  }

  /** Ends the session once: keys first (nothing typed after this acts), then the socket. */
  function finish(code: number, printClosing = true): void {
    if (finished) return;
    finished = true;
    keys.stop();
    if (printClosing) emit({ type: 'closing', target });
    if (socket.destroyed) {
      resolveDone(code);
      return;
    }
    socket.once('close', () => resolveDone(code));
    socket.end();
    setTimeout(() => socket.destroy(), CLOSE_WAIT_MS).unref();
  }

  return { done, stop: (code) => finish(code) };
}
