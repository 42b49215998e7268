import type { ReconnectPolicy } from './backoff.js';
import { DEFAULT_HOST, DEFAULT_PORT, MAX_CHUNK_LENGTH } from '../protocol/defaults.js';

export interface ClientConfig {
  readonly host: string;
  readonly port: number;
  /** Largest header accepted from the server, in bytes. */
  readonly maxHeaderLength: number;
  /** Largest content accepted from the server: the biggest chunk a server may be set to send. */
  readonly maxContentLength: number;
  /** With `--reconnect`: how to try again after a lost connection; undefined ends the client instead. */
  readonly reconnect: ReconnectPolicy | undefined;
}

export const DEFAULT_RECONNECT: ReconnectPolicy = { initialMs: 500, maxMs: 30_000, attempts: 0 };

export const DEFAULT_CLIENT_CONFIG: ClientConfig = {
  host: DEFAULT_HOST,
  port: DEFAULT_PORT,
  maxHeaderLength: 1024,
  maxContentLength: MAX_CHUNK_LENGTH,
  reconnect: undefined,
};
