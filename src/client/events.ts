import type { ProtocolError, StatisticsInvalidError } from '../protocol/errors.js';
import type { Frame, MessageType } from '../protocol/frame.js';
import type { CertificateSummary } from './tls.js';

/** The server as the user named it: every client line about it prints this address. */
export interface Target {
  readonly host: string;
  readonly port: number;
}

/** Everything the client reports; src/output/client-lines.ts decides how each one looks. */
export type ClientEvent =
  | { readonly type: 'starting'; readonly target: Target }
  | { readonly type: 'connected'; readonly target: Target; readonly local: string; readonly remote: string }
  | { readonly type: 'hint' }
  /** A key press that was acted on (white space from a script is passed over, Ctrl-C interrupts). */
  | { readonly type: 'key'; readonly key: string; readonly character: boolean }
  | { readonly type: 'frame'; readonly target: Target; readonly frame: Frame; readonly messageType: MessageType }
  | {
      readonly type: 'statistics';
      /** What the server says it delivered since the last answer. */
      readonly reported: number;
      /** What this client counted in the same span. */
      readonly counted: number;
    }
  /** A statistics answer that cannot be read; the client's own count starts again, as the server's did. */
  | { readonly type: 'bad-statistics'; readonly error: StatisticsInvalidError; readonly counted: number }
  | { readonly type: 'request'; readonly target: Target; readonly request: Buffer; readonly frame: Buffer }
  /** The content of an `error` frame, as the server sent it (bytes from the peer: printed escaped). */
  | { readonly type: 'server-error'; readonly reason: Buffer }
  /** The content of a `shutdown` frame, as the server sent it. */
  | { readonly type: 'shutdown'; readonly reason: Buffer }
  | { readonly type: 'peer-closed' }
  | { readonly type: 'protocol-error'; readonly error: ProtocolError }
  | { readonly type: 'connection-error'; readonly error: NodeJS.ErrnoException }
  | { readonly type: 'connect-failed'; readonly target: Target; readonly error: NodeJS.ErrnoException }
  /** The server's certificate did not verify for `name` (the `code` is Node's): closed before a byte was sent. */
  | { readonly type: 'tls-untrusted'; readonly target: Target; readonly name: string; readonly code: string; readonly certificate: CertificateSummary | undefined }
  /** The TLS handshake failed: the server refused ours (no client certificate, an unknown one) or speaks no TLS. */
  | { readonly type: 'tls-failed'; readonly target: Target; readonly error: NodeJS.ErrnoException }
  /** `--insecure`: connected without verifying; `code` says why verification would have failed. */
  | { readonly type: 'tls-insecure'; readonly target: Target; readonly name: string; readonly code: string | undefined; readonly certificate: CertificateSummary | undefined }
  /** No frame for `--idle-timeout` seconds: the server stalled or vanished. */
  | { readonly type: 'idle-timeout'; readonly target: Target; readonly seconds: number; readonly connected: boolean }
  | { readonly type: 'reconnecting'; readonly target: Target; readonly attempt: number; readonly attempts: number; readonly delayMs: number }
  /** Statistics asked for and never sent: no connection was made, or it ended first. */
  | { readonly type: 'not-connected'; readonly target: Target; readonly requests: number; readonly everConnected: boolean }
  | { readonly type: 'closing'; readonly target: Target };

export type ClientEventSink = (event: ClientEvent) => void;

/**
 * Where the events are printed, as far as the client needs to know: whether it has fallen
 * behind. While it is `full`, the client reads neither the socket nor the keys, so a slow
 * reader of its output slows the stream down instead of losing lines or growing memory.
 */
export interface OutputFlow {
  readonly full: boolean;
  /** Calls `resume` once, when the output has caught up. */
  whenDrained(resume: () => void): void;
}

/** For a client whose output never falls behind (tests, embedding). */
export const UNBOUNDED_OUTPUT: OutputFlow = { full: false, whenDrained: (resume) => resume() };
