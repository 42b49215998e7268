import type { Readable } from 'node:stream';
import { backoffDelay } from './backoff.js';
import type { ClientConfig } from './config.js';
import { ClientConnection, type ConnectionEnd } from './connection.js';
import type { ClientEventSink, OutputFlow, Target } from './events.js';
import { readKeys } from './key-input.js';
import { isCharacterKey, keyAction } from './keys.js';

/** Exit codes the client ends with, by cause. */
export const ClientExit = {
  ok: 0,
  /** The server went away without a shutdown frame, could not be reached, or was not trusted. */
  connectionLost: 1,
  interrupted: 130,
} as const;

/**
 * How long quitting waits for the answers already asked for: the original server answers only
 * after its current wait, which is at most 5 s.
 */
export const ANSWER_WAIT_MS = 5_000;

export interface ClientIo {
  readonly stdin: Readable;
  readonly emit: ClientEventSink;
  readonly output: OutputFlow;
}

export interface RunningClient {
  /** Resolves with the exit code once the connection is closed and the keys are released. */
  readonly done: Promise<number>;
  /** Ends the session from outside (a signal, a closed stdout) with the given exit code, at once. */
  stop(code: number): void;
}

/**
 * The interactive session: keys in, one connection at a time, and with `--reconnect` a new
 * connection after each lost one, with backoff.
 */
export function runClient(config: ClientConfig, io: ClientIo): RunningClient {
  const { emit } = io;
  const target: Target = { host: config.host, port: config.port };
  let finishing = false;
  /** Connections in a row that delivered nothing: the backoff's attempt number. */
  let failures = 0;
  /** Statistics asked for and not sent by the last connection, or while there was none: the next one sends them. */
  let pending = 0;
  let lastEnd: ConnectionEnd | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  /** While quitting waits for answers: ends the wait at once (a signal, Ctrl-C, a broken output). */
  let cutWaitShort: ((code: number) => void) | undefined;
  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));

  const keys = readKeys(io.stdin, onKey, onKeysEnd, io.output);
  let connection = open();

  function open(): ClientConnection {
    const opened = new ClientConnection(config, target, emit, io.output, onConnectionEnd);
    opened.requestStatistics(pending);
    pending = 0;
    return opened;
  }

  function onConnectionEnd(end: ConnectionEnd): void {
    lastEnd = end;
    pending += end.unsent;
    if (finishing || end.kind === 'closed') return;
    if (end.kind === 'tls-failed') {
      // Not retried, even with --reconnect: see ConnectionEndKind.
      void finish(ClientExit.connectionLost);
      return;
    }
    const policy = config.reconnect;
    failures = end.delivered ? 1 : failures + 1;
    if (policy === undefined || (policy.attempts > 0 && failures > policy.attempts)) {
      void finish(end.kind === 'shutdown' ? ClientExit.ok : ClientExit.connectionLost);
      return;
    }
    const delayMs = backoffDelay(failures, policy);
    emit({ type: 'reconnecting', target, attempt: failures, attempts: policy.attempts, delayMs });
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (!finishing) connection = open();
    }, delayMs);
  }

  function onKey(key: string): void {
    if (finishing) return;
    const action = keyAction(key, keys.fromTerminal);
    if (action === 'ignore') return;
    if (action !== 'interrupt') emit({ type: 'key', key, character: isCharacterKey(key) });
    switch (action) {
      case 'statistics':
        // Before the connection (or between two), the request waits for it.
        if (connection.ended) pending++;
        else connection.requestStatistics();
        break;
      case 'quit':
        void finish(ClientExit.ok, true);
        break;
      case 'interrupt':
        void finish(ClientExit.interrupted);
        break;
      case 'hint':
        break;
    }
  }

  function onKeysEnd(): void {
    // Without --exit-on-eof the end of a script's input stops the keys, not the session.
    if (config.exitOnEof) void finish(ClientExit.ok, true);
  }

  /**
   * Ends the session once: keys first (nothing typed after this acts), then, when quitting,
   * a bounded wait for the answers already asked for, then the socket.
   */
  async function finish(code: number, waitForAnswers = false): Promise<void> {
    if (finishing) return;
    finishing = true;
    keys.stop();
    clearTimeout(retryTimer);
    const current = connection;
    const endedBefore = current.ended;
    let stoppedWith: number | undefined;
    if (waitForAnswers) {
      const cut = new Promise<number>((resolve) => (cutWaitShort = resolve));
      stoppedWith = await Promise.race([current.settle(ANSWER_WAIT_MS).then(() => undefined), cut]);
      cutWaitShort = undefined;
    }
    // Lost while waiting for its answers (then the last end is this connection's): the quit
    // did not get what it asked for.
    const lostMeanwhile = !endedBefore && current.ended && (lastEnd?.kind === 'lost' || lastEnd?.kind === 'refused' || lastEnd?.kind === 'tls-failed');
    const established = current.established;
    const closed = current.close();
    if (pending > 0) emit({ type: 'not-connected', target, requests: pending, everConnected: established });
    if (established) emit({ type: 'closing', target });
    await closed;
    resolveDone(stoppedWith ?? (lostMeanwhile ? ClientExit.connectionLost : code));
  }

  function stop(code: number): void {
    if (cutWaitShort !== undefined) cutWaitShort(code);
    else void finish(code);
  }

  return { done, stop };
}
