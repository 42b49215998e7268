import type { Socket } from 'node:net';
import { Server as TlsServer, type TLSSocket } from 'node:tls';
import { loadCredentials, type CertificateSummary, type Credentials, type TlsSettings } from './tls-credentials.js';

/** Why a handshake failed: OpenSSL's or Node's code (`ERR_SSL_WRONG_VERSION_NUMBER`), and the reason in words. */
export class TlsHandshakeError extends Error {
  override readonly name = 'TlsHandshakeError';
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Told how one connection's handshake ends: exactly one of the two, once. */
export interface HandshakeWatcher {
  secured(socket: TLSSocket): void;
  failed(error: TlsHandshakeError): void;
}

/** Where a raw socket keeps the watcher of its handshake, so that one pair of listeners serves all. */
const WATCHER = Symbol('handshake watcher');
type WatchedSocket = Socket & { [WATCHER]?: HandshakeWatcher };

/**
 * The TLS side of the client port. A `node:tls` server that never listens does the handshakes:
 * the listener is a plain TCP one, so that a PROXY header can be read before TLS begins, and
 * each connection is handed over when its turn for TLS comes (`'connection'`, which the TLS
 * server documents for this). It brings Node's checks of client certificates and
 * `setSecureContext()`, which replaces the certificate for new connections without touching
 * those already open.
 */
export class TlsTerminator {
  readonly settings: TlsSettings;
  readonly #server: TlsServer;
  #credentials: Credentials;

  /** Loads the files (throws a TlsFilesError if one cannot be used). */
  constructor(settings: TlsSettings, handshakeTimeoutMs: number) {
    this.settings = settings;
    this.#credentials = loadCredentials(settings.files);
    this.#server = new TlsServer({
      ...this.#credentials.options,
      requestCert: settings.clientAuth !== 'none',
      rejectUnauthorized: settings.clientAuth === 'require',
      // Node's own timer, which restarts on every byte; the accept deadline bounds the whole.
      handshakeTimeout: handshakeTimeoutMs,
    });
    this.#server.on('secureConnection', onSecure);
    this.#server.on('tlsClientError', onClientError);
  }

  get certificate(): CertificateSummary {
    return this.#credentials.certificate;
  }

  /**
   * Reads the files again and uses them for every handshake from now on; connections already
   * open keep theirs. Throws a TlsFilesError, keeping what was loaded before, if a file cannot
   * be used.
   */
  reload(): CertificateSummary {
    const next = loadCredentials(this.settings.files);
    this.#server.setSecureContext(next.options);
    this.#credentials = next;
    return next.certificate;
  }

  /** Starts the handshake on `socket`, whose bytes so far (if any) are still to be read. */
  handshake(socket: Socket, watcher: HandshakeWatcher): void {
    (socket as WatchedSocket)[WATCHER] = watcher;
    this.#server.emit('connection', socket);
  }
}

/**
 * The raw socket under a server-side TLS socket: Node keeps it as `_parent`, which its public
 * API does not expose; the TLS server's events name only the TLS socket.
 */
function watcherOf(secure: TLSSocket): HandshakeWatcher | undefined {
  const raw = (secure as TLSSocket & { _parent?: WatchedSocket })._parent;
  const watcher = raw?.[WATCHER];
  if (raw !== undefined) delete raw[WATCHER];
  return watcher;
}

function onSecure(secure: TLSSocket): void {
  const watcher = watcherOf(secure);
  if (watcher === undefined) secure.destroy();
  else watcher.secured(secure);
}

function onClientError(error: NodeJS.ErrnoException & { reason?: string }, secure: TLSSocket): void {
  secure.destroy();
  watcherOf(secure)?.failed(handshakeError(error, secure.authorizationError));
}

/**
 * The failure in a line's words. OpenSSL's errors carry the reason alone beside the full text
 * (`wrong version number`); a client certificate that does not verify is refused by Node after
 * the handshake, with only `authorizationError` to say why.
 */
function handshakeError(error: NodeJS.ErrnoException & { reason?: string }, authorization: Error | string | null): TlsHandshakeError {
  if (authorization !== null && authorization !== undefined) {
    const code = String(authorization);
    return new TlsHandshakeError(code, `client certificate refused: ${VERIFY_ERRORS[code] ?? code}`, { cause: error });
  }
  if (error.code === 'ECONNRESET') return new TlsHandshakeError('ECONNRESET', 'the connection closed during the TLS handshake', { cause: error });
  return new TlsHandshakeError(error.code ?? 'ERR_TLS', error.reason ?? error.message, { cause: error });
}

/** OpenSSL's words for the verification failures a client certificate commonly meets. */
const VERIFY_ERRORS: Readonly<Record<string, string>> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unable to verify the first certificate (not issued by --tls-ca)',
  UNABLE_TO_GET_ISSUER_CERT: 'unable to get issuer certificate',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unable to get local issuer certificate (not issued by --tls-ca)',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in certificate chain',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  CERT_HAS_EXPIRED: 'certificate has expired',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  CERT_REVOKED: 'certificate revoked',
  INVALID_PURPOSE: 'unsupported certificate purpose (not for client authentication)',
};
