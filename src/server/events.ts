import type { ProtocolError } from '../protocol/errors.js';
import type { FrameHeader } from '../protocol/frame.js';
import type { TlsHandshakeError } from '../transport/tls.js';
import type { CertificateSummary } from '../transport/tls-credentials.js';
import type { Wait } from './generator.js';
import type { ProcessSnapshot, StatsSnapshot } from './snapshot.js';

/** A connected peer. */
export interface Peer {
  /** Counts connections from 1 in accept order (the order `--seed` streams follow). */
  readonly id: number;
  readonly host: string;
  readonly port: number;
  readonly family: string;
}

/** What a connection's life looked like, for the closing line and the logs. */
export interface SessionSummary {
  readonly durationMs: number;
  readonly chunks: number;
  readonly symbols: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
}

/**
 * Everything the server reports. The server only emits these; src/output decides what each
 * looks like in each mode, so the network code never formats a line.
 */
export type ServerEvent =
  | { readonly type: 'listening'; readonly host: string; readonly port: number; readonly family: string }
  | { readonly type: 'metrics'; readonly host: string; readonly port: number }
  /** The web port (`--web`): the browser client and the WebSocket endpoints. */
  /** The web port is open; `tls`: it serves HTTPS and WSS. */
  | { readonly type: 'web'; readonly host: string; readonly port: number; readonly tls: boolean }
  | { readonly type: 'accepted'; readonly peer: Peer; readonly clients: number }
  | { readonly type: 'rejected'; readonly peer: Peer; readonly error: ProtocolError }
  | { readonly type: 'scheduled'; readonly peer: Peer; readonly wait: Wait }
  | {
      readonly type: 'chunk';
      readonly peer: Peer;
      readonly content: Buffer;
      readonly sleepTime: number;
      readonly frameBytes: number;
      /** How long after its due time the chunk went out, in milliseconds. */
      readonly lateMs: number;
    }
  | { readonly type: 'request'; readonly peer: Peer; readonly header: FrameHeader; readonly content: Buffer }
  | { readonly type: 'statistics'; readonly peer: Peer; readonly count: number; readonly content: Buffer; readonly frameBytes: number }
  | { readonly type: 'protocol-error'; readonly peer: Peer; readonly error: ProtocolError }
  | { readonly type: 'blocked'; readonly peer: Peer; readonly queuedBytes: number }
  | { readonly type: 'unblocked'; readonly peer: Peer; readonly blockedMs: number }
  | { readonly type: 'peer-closed'; readonly peer: Peer }
  | { readonly type: 'connection-error'; readonly peer: Peer; readonly error: NodeJS.ErrnoException }
  /** A fault of ours while serving this peer: the connection is dropped, the server goes on. */
  | { readonly type: 'internal-error'; readonly peer: Peer; readonly error: Error }
  | { readonly type: 'closed'; readonly peer: Peer; readonly summary: SessionSummary }
  /** A load balancer's health check (PROXY v2 `LOCAL`): accepted and closed, not a client. */
  | { readonly type: 'health-check'; readonly peer: Peer }
  /** A TLS handshake that failed or did not finish in time: that connection was closed. */
  | { readonly type: 'tls-error'; readonly peer: Peer; readonly error: TlsHandshakeError }
  /** SIGHUP: the TLS files read again, for new connections; `workers` that did it, with `--workers`. */
  | { readonly type: 'tls-reloaded'; readonly certificate: CertificateSummary; readonly workers?: number }
  /** SIGHUP: a TLS file could not be used, so the previous ones stay; with `--workers`, how many failed. */
  | { readonly type: 'tls-reload-failed'; readonly error: Error; readonly workers?: { readonly failed: number; readonly of: number } }
  /** SIGHUP without TLS: nothing is read again, and the server goes on. */
  | { readonly type: 'nothing-to-reload' }
  | { readonly type: 'shutdown'; readonly reason: string; readonly signal: NodeJS.Signals | undefined; readonly clients: number }
  /** An error no connection's guard caught; `recovered` says whether the server carries on. */
  | { readonly type: 'process-error'; readonly error: Error; readonly recovered: boolean }
  | { readonly type: 'stats'; readonly stats: StatsSnapshot; readonly process: ProcessSnapshot }
  | { readonly type: 'stopped'; readonly forced: number; readonly stats: StatsSnapshot };

export type ServerEventSink = (event: ServerEvent) => void;
