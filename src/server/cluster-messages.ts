import type { ListenerName } from './listen-error.js';
import type { StatsSnapshot } from './snapshot.js';

/**
 * What the primary of `--workers N` and its workers say to each other over node:cluster's IPC
 * channel, and how the primary tells a worker which one it is before it can listen.
 */

// Prefixed: the same channel carries node:cluster's own messages and anyone else's.
const PREFIX = 'multi-socket:';

export const Message = {
  // primary -> worker
  stop: `${PREFIX}stop`,
  metricsRequest: `${PREFIX}metrics-request`,
  reload: `${PREFIX}reload`,
  // worker -> primary
  listening: `${PREFIX}listening`,
  failed: `${PREFIX}failed`,
  shutdown: `${PREFIX}shutdown`,
  stopped: `${PREFIX}stopped`,
  metrics: `${PREFIX}metrics`,
  reloaded: `${PREFIX}reloaded`,
} as const;

export type ToWorker =
  /** Drain as a single server does on a signal (the primary got it). */
  | { readonly type: typeof Message.stop; readonly reason: string; readonly signal: NodeJS.Signals | undefined }
  | { readonly type: typeof Message.metricsRequest; readonly id: number }
  /** SIGHUP came to the primary: read the TLS files again, and say how it went. */
  | { readonly type: typeof Message.reload; readonly id: number };

export type ToPrimary =
  /** `web`: where the worker serves the web port, if it does. */
  | { readonly type: typeof Message.listening; readonly port: number; readonly family: string; readonly web?: { readonly host: string; readonly port: number } }
  /** The worker could not listen: why, for the primary to report once. */
  | {
      readonly type: typeof Message.failed;
      readonly message: string;
      /** Which listener could not be opened, when that is why. */
      readonly listen?: { readonly listener: ListenerName; readonly host: string; readonly port: number; readonly code: string | undefined };
    }
  /** The worker's part of the one `shutting down` line. */
  | { readonly type: typeof Message.shutdown; readonly clients: number }
  /** The worker's part of the one `stopped` line. */
  | { readonly type: typeof Message.stopped; readonly forced: number; readonly stats: StatsSnapshot }
  /** The answer to the metrics request `id`: the worker's registry as JSON. */
  | { readonly type: typeof Message.metrics; readonly id: number; readonly metrics: object }
  /** The answer to the reload request `id`: the certificate now served, or why the old one stays. */
  | { readonly type: typeof Message.reloaded; readonly id: number; readonly outcome: ReloadReport };

/** A worker's reload as it crosses the channel (which carries JSON: the date as text). */
export type ReloadReport =
  | { readonly ok: true; readonly subject: string; readonly validTo: string; readonly fingerprint: string }
  | { readonly ok: false; readonly message: string };

/** One of our messages (from our own other process, so trusted past the prefix), or undefined. */
export function ours<T extends { type: string }>(message: unknown): T | undefined {
  const type = (message as { type?: unknown } | null)?.type;
  return typeof type === 'string' && type.startsWith(PREFIX) ? (message as T) : undefined;
}

/** How the primary tells a worker its slot and the ports to listen on: `slot:port:webPort`. */
const WORKER_ENV = 'MULTI_SOCKET_WORKER';

/** The environment of the worker in `slot` (1..N), to listen on `port` (and on `webPort` for the web port, if given). */
export function workerEnv(slot: number, port: number, webPort?: number): Record<string, string> {
  return { [WORKER_ENV]: `${slot}:${port}:${webPort ?? ''}` };
}

/** The port this worker is to listen on, or undefined if this process is not one of our workers. */
export function workerPort(): number | undefined {
  const value = process.env[WORKER_ENV];
  return value === undefined ? undefined : Number(value.split(':')[1]);
}

/** The port this worker is to serve the web port on, if the primary said. */
export function workerWebPort(): number | undefined {
  const value = process.env[WORKER_ENV]?.split(':')[2];
  return value === undefined || value === '' ? undefined : Number(value);
}
