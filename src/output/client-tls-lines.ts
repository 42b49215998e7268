import type { ClientEvent } from '../client/events.js';
import type { CertificateSummary } from '../client/tls.js';
import { addressLabel, escapeText, strRepr } from './python-repr.js';

type EventOf<K extends ClientEvent['type']> = Extract<ClientEvent, { readonly type: K }>;

/**
 * Why a certificate did not verify, in words, from Node's code (OpenSSL's verify codes, and
 * `ERR_TLS_CERT_ALTNAME_INVALID` from the name check), with what the user can pass to fix it.
 * Every text from the certificate is the peer's: quoted and escaped.
 */
export function untrustedReason(code: string, certificate: CertificateSummary | undefined): string {
  switch (code) {
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `it is for ${strRepr(certificate?.altNames ?? certificate?.subject ?? '')}, not that name (--tls-servername NAME checks another)`;
    case 'CERT_HAS_EXPIRED':
      return `it expired on ${strRepr(certificate?.validTo ?? '')}`;
    case 'CERT_NOT_YET_VALID':
      return `it is valid only from ${strRepr(certificate?.validFrom ?? '')}`;
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return 'its issuer is not a trusted CA (--tls-ca FILE trusts one)';
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      return 'it is self-signed and not trusted (--tls-ca FILE trusts it)';
    case 'SELF_SIGNED_CERT_IN_CHAIN':
      return 'its chain ends in a self-signed CA that is not trusted (--tls-ca FILE trusts it)';
    default:
      return 'it did not verify';
  }
}

/** `subject 'localhost', issuer 'Test CA'`: which certificate, as its owner named it. */
function whose(certificate: CertificateSummary | undefined): string {
  return certificate === undefined ? 'no certificate sent' : `subject ${strRepr(certificate.subject)}, issuer ${strRepr(certificate.issuer)}`;
}

export function tlsUntrustedLine(event: EventOf<'tls-untrusted'>): string {
  return (
    `error: TLS certificate of ${addressLabel(event.target)} not trusted for the name ${strRepr(event.name)} ` +
    `(${whose(event.certificate)}): ${untrustedReason(event.code, event.certificate)} (${escapeText(event.code)})`
  );
}

export function tlsInsecureLine(event: EventOf<'tls-insecure'>): string {
  const fingerprint = event.certificate === undefined ? '' : `SHA-256 fingerprint ${event.certificate.fingerprint256}, `;
  const verdict = event.code === undefined ? 'it would have verified' : `it would not verify: ${escapeText(event.code)}`;
  return `warning: --insecure: the TLS certificate of ${addressLabel(event.target)} is not verified (${fingerprint}${whose(event.certificate)}; ${verdict})`;
}

/** OpenSSL's words (`wrong version number`), which Node gives as `reason`, then what to check. */
export function tlsFailedReason(error: NodeJS.ErrnoException): string {
  const reason = (error as { reason?: unknown }).reason;
  const words = escapeText(typeof reason === 'string' && reason !== '' ? reason : error.message);
  const code = error.code ?? '';
  if (code.includes('CERTIFICATE_REQUIRED') || code.includes('HANDSHAKE_FAILURE')) {
    return `${words}: the server may ask for a client certificate (--tls-cert FILE --tls-key FILE)`;
  }
  if (code.includes('UNKNOWN_CA') || code.includes('BAD_CERTIFICATE') || code.includes('CERTIFICATE_UNKNOWN')) {
    return `${words}: the server did not accept our client certificate`;
  }
  if (code.includes('WRONG_VERSION_NUMBER') || code.includes('PACKET_LENGTH_TOO_LONG')) return `${words}: is this a TLS port?`;
  if (code.includes('PROTOCOL_VERSION') || code.includes('UNSUPPORTED_PROTOCOL')) return `${words}: the server offers no TLS 1.2 or newer`;
  return words;
}

export function tlsFailedLine(event: EventOf<'tls-failed'>): string {
  return `error: TLS handshake with ${addressLabel(event.target)} failed: ${tlsFailedReason(event.error)} (${escapeText(event.error.code ?? 'no code')})`;
}

/** The certificate's fields in json mode: absent when the server sent none. */
export function certificateFields(certificate: CertificateSummary | undefined): Record<string, unknown> {
  if (certificate === undefined) return {};
  return {
    subject: certificate.subject,
    issuer: certificate.issuer,
    alt_names: certificate.altNames,
    valid_from: certificate.validFrom,
    valid_to: certificate.validTo,
    fingerprint: certificate.fingerprint256,
  };
}
