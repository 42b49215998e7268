import type { ProtocolError } from '../protocol/errors.js';
import type { Frame, MessageType } from '../protocol/frame.js';

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
  | { readonly type: 'frame'; readonly target: Target; readonly frame: Frame; readonly messageType: MessageType }
  | {
      readonly type: 'statistics';
      /** What the server says it delivered since the last answer. */
      readonly reported: number;
      /** What this client counted in the same span. */
      readonly counted: number;
    }
  | { readonly type: 'request'; readonly target: Target; readonly request: Buffer; readonly frame: Buffer }
  | { readonly type: 'server-error'; readonly reason: string }
  | { readonly type: 'shutdown'; readonly reason: string }
  | { readonly type: 'peer-closed' }
  | { readonly type: 'protocol-error'; readonly error: ProtocolError }
  | { readonly type: 'connection-error'; readonly error: NodeJS.ErrnoException }
  | { readonly type: 'connect-failed'; readonly target: Target; readonly error: NodeJS.ErrnoException }
  | { readonly type: 'reconnecting'; readonly target: Target; readonly attempt: number; readonly attempts: number; readonly delayMs: number }
  | { readonly type: 'not-connected' }
  | { readonly type: 'closing'; readonly target: Target };

export type ClientEventSink = (event: ClientEvent) => void;
