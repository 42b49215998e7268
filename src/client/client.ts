import type { Readable } from 'node:stream';
import { backoffDelay } from './backoff.js';
import type { ClientConfig } from './config.js';
import { ClientConnection, type ConnectionEnd } from './connection.js';
import type { ClientEventSink, Target } from './events.js';
import { readKeys } from './key-input.js';
import { keyAction } from './keys.js';

/** Exit codes the client ends with, by cause. */
export const ClientExit = {
  ok: 0,
  /** The server went away without a shutdown frame, or could not be reached. */
  connectionLost: 1,
  interrupted: 130,
} as const;

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
 * The interactive session: keys in, one connection at a time, and with `--reconnect` a new
 * connection after each lost one, with backoff.
 */
export function runClient(config: ClientConfig, io: ClientIo): RunningClient {
  const { emit } = io;
  const target: Target = { host: config.host, port: config.port };
  let finished = false;
  let failures = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));

  const keys = readKeys(io.stdin, onKey, () => {
    // End of a script's input stops the keys, not the session: the stream goes on.
  });
  let connection = open();

  function open(): ClientConnection {
    return new ClientConnection(config, target, emit, onConnectionEnd);
  }

  function onConnectionEnd(end: ConnectionEnd): void {
    if (finished || end === 'closed') return;
    const policy = config.reconnect;
    failures = end === 'refused' ? failures + 1 : 1;
    if (policy === undefined || (policy.attempts > 0 && failures > policy.attempts)) {
      finish(end === 'shutdown' ? ClientExit.ok : ClientExit.connectionLost, end !== 'refused' || policy !== undefined);
      return;
    }
    const delayMs = backoffDelay(failures, policy);
    emit({ type: 'reconnecting', target, attempt: failures, attempts: policy.attempts, delayMs });
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (!finished) connection = open();
    }, delayMs);
  }

  function onKey(key: string): void {
    if (finished) return;
    switch (keyAction(key, keys.fromTerminal)) {
      case 'statistics':
        if (connection.connected) connection.requestStatistics();
        else emit({ type: 'not-connected' });
        break;
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
    clearTimeout(retryTimer);
    if (printClosing) emit({ type: 'closing', target });
    void connection.close().then(() => resolveDone(code));
  }

  return { done, stop: (code) => finish(code) };
}
