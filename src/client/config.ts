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
  /** With `--idle-timeout`: no frame from the server for this long ends the connection; undefined waits for ever. */
  readonly idleTimeoutMs: number | undefined;
  /** With `--exit-on-eof`: the end of the keys' input quits, after the answers already asked for. */
  readonly exitOnEof: boolean;
  /** With `--tls` (or any option that needs it): TLS to the server; undefined speaks plain TCP. */
  readonly tls: ClientTlsConfig | undefined;
}

/** The files' contents are read when the configuration is made: a bad path fails at start. */
export interface ClientTlsConfig {
  /** PEM certificates to trust instead of the system's store (`--tls-ca`). */
  readonly ca: Buffer | undefined;
  /** A client certificate (chain) and its key, PEM, for a server that asks for one. */
  readonly cert: Buffer | undefined;
  readonly key: Buffer | undefined;
  /** The name the certificate must carry, and the SNI name; undefined: the host as given. */
  readonly servername: string | undefined;
  /** `--insecure`: no verification at all, with a warning that shows the certificate's fingerprint. */
  readonly insecure: boolean;
}

export const DEFAULT_RECONNECT: ReconnectPolicy = { initialMs: 500, maxMs: 30_000, attempts: 0 };

export const DEFAULT_CLIENT_CONFIG: ClientConfig = {
  host: DEFAULT_HOST,
  port: DEFAULT_PORT,
  maxHeaderLength: 1024,
  maxContentLength: MAX_CHUNK_LENGTH,
  reconnect: undefined,
  idleTimeoutMs: undefined,
  exitOnEof: false,
  tls: undefined,
};
