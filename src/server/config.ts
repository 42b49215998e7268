import { DEFAULT_HOST, DEFAULT_PORT } from '../protocol/defaults.js';
import type { ProxySettings } from '../transport/accept.js';
import type { TlsSettings } from '../transport/tls-credentials.js';

/** An inclusive range of numbers, `min` <= `max`. */
export interface Range {
  readonly min: number;
  readonly max: number;
}

/** Everything the server can be told, validated once at the edge and then trusted. */
export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  /** Symbols per chunk. */
  readonly chars: Range;
  /** Seconds between chunks; whole-second bounds draw whole seconds, like the original. */
  readonly interval: Range;
  /** The symbols chunks are drawn from: printable ASCII, no space or `:`, each once. */
  readonly alphabet: string;
  /** Makes every connection's chunks and waits reproducible, given the same connection order. */
  readonly seed: number | undefined;
  /** Largest request header accepted, in bytes. */
  readonly maxHeaderLength: number;
  /** Largest request content accepted, in bytes. */
  readonly maxRequestLength: number;
  /** A frame that has begun must be complete within this many milliseconds. */
  readonly frameTimeoutMs: number;
  /** A client that reads nothing for this long while its buffer is full is disconnected. */
  readonly slowClientTimeoutMs: number;
  /** Connections beyond this are told the server is full and closed. */
  readonly maxClients: number;
  /** On shutdown, sockets still open after this long are destroyed. */
  readonly shutdownTimeoutMs: number;
  /** How often to report the counters and the process's memory and handles; 0 for never. */
  readonly statsIntervalMs: number;
  /** Where to serve Prometheus metrics (`GET /metrics`), if anywhere. */
  readonly metrics: { readonly host: string; readonly port: number } | undefined;
  /** Connections from one address (the one a PROXY header carries, if any) served at once; undefined for no limit. */
  readonly maxClientsPerAddress: number | undefined;
  /** TLS on the client port: its files, and whether client certificates are asked for. */
  readonly tls: TlsSettings | undefined;
  /** The PROXY protocol header expected before anything else, from these sources only. */
  readonly proxy: ProxySettings | undefined;
}

export const DEFAULT_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export const DEFAULT_SERVER_CONFIG: ServerConfig = {
  host: DEFAULT_HOST,
  port: DEFAULT_PORT,
  chars: { min: 1, max: 5 },
  interval: { min: 1, max: 5 },
  alphabet: DEFAULT_ALPHABET,
  seed: undefined,
  maxHeaderLength: 1024,
  maxRequestLength: 1024,
  frameTimeoutMs: 10_000,
  slowClientTimeoutMs: 30_000,
  maxClients: 10_000,
  shutdownTimeoutMs: 5_000,
  statsIntervalMs: 0,
  metrics: undefined,
  maxClientsPerAddress: undefined,
  tls: undefined,
  proxy: undefined,
};
