import { isIP } from 'node:net';
import { checkServerIdentity, type ConnectionOptions, type PeerCertificate, type TLSSocket } from 'node:tls';
import type { ClientTlsConfig } from './config.js';

/** What the failure and warning lines say about the server's certificate; every text is the peer's. */
export interface CertificateSummary {
  /** The subject's common name, or its whole name when it has none. */
  readonly subject: string;
  readonly issuer: string;
  /** `DNS:localhost, IP Address:127.0.0.1`, as the certificate lists them; undefined when it has none. */
  readonly altNames: string | undefined;
  readonly validFrom: string;
  readonly validTo: string;
  /** `AB:CD:...`, the SHA-256 of the certificate's DER form, as `openssl x509 -fingerprint -sha256` prints it. */
  readonly fingerprint256: string;
}

/** The name the server's certificate is checked against: `--tls-servername`, else the host as given. */
export function checkedName(host: string, tls: ClientTlsConfig): string {
  return tls.servername ?? host;
}

/**
 * Options for `tls.connect`. Node's own verification (the chain by OpenSSL, the name by
 * `tls.checkServerIdentity`) runs after the handshake in both cases; with `rejectUnauthorized`
 * it destroys the socket with the certificate, so the client decides itself, on
 * `secureConnect` and before a byte is read or written, and can then say whose certificate
 * failed and why.
 */
export function tlsConnectOptions(host: string, port: number, tls: ClientTlsConfig): ConnectionOptions {
  const name = checkedName(host, tls);
  return {
    host,
    port,
    minVersion: 'TLSv1.2',
    rejectUnauthorized: false,
    ...(tls.ca === undefined ? {} : { ca: tls.ca }),
    ...(tls.cert === undefined ? {} : { cert: tls.cert }),
    ...(tls.key === undefined ? {} : { key: tls.key }),
    // SNI carries host names only (RFC 6066 §3); an address is still checked against the certificate.
    ...(isIP(name) === 0 ? { servername: name } : {}),
    checkServerIdentity: (_host, certificate) => checkServerIdentity(name, certificate),
  };
}

/** After `secureConnect`: the verification error's code (`CERT_HAS_EXPIRED`, ...), or undefined if verified. */
export function verificationError(socket: TLSSocket): string | undefined {
  if (socket.authorized) return undefined;
  const error: unknown = socket.authorizationError;
  if (error instanceof Error) return (error as NodeJS.ErrnoException).code ?? error.message;
  return typeof error === 'string' && error !== '' ? error : 'UNABLE_TO_VERIFY';
}

/** The server's certificate as the lines show it; undefined when the server sent none. */
export function certificateSummary(socket: TLSSocket): CertificateSummary | undefined {
  const certificate: Partial<PeerCertificate> = socket.getPeerCertificate();
  if (certificate.fingerprint256 === undefined) return undefined;
  return {
    subject: nameOf(certificate.subject),
    issuer: nameOf(certificate.issuer),
    altNames: certificate.subjectaltname === undefined || certificate.subjectaltname === '' ? undefined : certificate.subjectaltname,
    validFrom: certificate.valid_from ?? '',
    validTo: certificate.valid_to ?? '',
    fingerprint256: certificate.fingerprint256,
  };
}

/** `CN`, else `O=..., OU=...`: what a person recognises a certificate by. */
function nameOf(name: unknown): string {
  if (typeof name !== 'object' || name === null) return '';
  const parts = name as Record<string, string | string[] | undefined>;
  const text = (value: string | string[] | undefined): string => (Array.isArray(value) ? value.join('+') : (value ?? ''));
  if (parts['CN'] !== undefined) return text(parts['CN']);
  return Object.entries(parts)
    .map(([key, value]) => `${key}=${text(value)}`)
    .join(', ');
}

/**
 * Handshake errors that no waiting mends: the server refused our certificate or our versions,
 * or speaks no TLS at that port. Resets and timeouts during a handshake are ordinary connection
 * failures, retried with `--reconnect`.
 */
export function isTlsHandshakeError(error: NodeJS.ErrnoException): boolean {
  return error.code !== undefined && (error.code.startsWith('ERR_SSL_') || error.code.startsWith('ERR_TLS_'));
}
