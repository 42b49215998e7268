import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';

/**
 * The server's TLS files: read, checked one by one so that a failure names the file at fault,
 * and turned into the options of a secure context. Read at start and again on each reload.
 */

/** Whether the server asks for client certificates, and whether it refuses a client without a valid one. */
export type ClientAuth = 'none' | 'request' | 'require';

export interface TlsFiles {
  /** The certificate, then any intermediates: the chain sent to clients (PEM). */
  readonly cert: string;
  readonly key: string;
  /** The CAs that client certificates must come from (PEM), for `request` and `require`. */
  readonly ca?: string;
}

export interface TlsSettings {
  readonly files: TlsFiles;
  readonly clientAuth: ClientAuth;
}

/** What a loaded certificate is, for the lines that say which one is served. */
export interface CertificateSummary {
  /** `CN=localhost`, the parts of the subject joined by `, `. */
  readonly subject: string;
  /** The end of its validity. */
  readonly validTo: Date;
  /** SHA-256 of the certificate, as `AB:CD:...`. */
  readonly fingerprint: string;
}

export interface Credentials {
  readonly options: SecureContextOptions;
  readonly certificate: CertificateSummary;
}

/** TLS 1.0 and 1.1 are deprecated (RFC 8996). */
export const MIN_TLS_VERSION = 'TLSv1.2';

/** A TLS file that cannot be used: the message names the option, the file and the reason. */
export class TlsFilesError extends Error {
  override readonly name = 'TlsFilesError';
  readonly code: string | undefined;

  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.code = (cause as { code?: unknown } | undefined)?.code as string | undefined;
  }
}

/** Reads and checks the files; throws a TlsFilesError naming the first that cannot be used. */
export function loadCredentials(files: TlsFiles): Credentials {
  const cert = read('--tls-cert', files.cert);
  const key = read('--tls-key', files.key);
  const ca = files.ca === undefined ? undefined : read('--tls-ca', files.ca);
  const leaf = parse('--tls-cert', files.cert, 'a PEM certificate', () => new X509Certificate(cert));
  const privateKey = parse('--tls-key', files.key, 'a PEM private key', () => createPrivateKey(key));
  if (ca !== undefined) parse('--tls-ca', files.ca as string, 'a PEM certificate', () => new X509Certificate(ca));
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new TlsFilesError(`--tls-key '${files.key}' is not the key of the certificate in --tls-cert '${files.cert}'`, undefined);
  }
  const options: SecureContextOptions = { cert, key, ...(ca === undefined ? {} : { ca }), minVersion: MIN_TLS_VERSION };
  // What the checks above cannot see (a chain in the wrong order, a key type the build lacks).
  parse('--tls-cert', files.cert, 'usable for TLS with its key', () => createSecureContext(options));
  return {
    options,
    certificate: { subject: leaf.subject.split('\n').join(', '), validTo: new Date(leaf.validTo), fingerprint: leaf.fingerprint256 },
  };
}

function read(option: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new TlsFilesError(`cannot read ${option} '${path}': ${systemReason(error)}`, error);
  }
}

function parse<T>(option: string, path: string, expected: string, make: () => T): T {
  try {
    return make();
  } catch (error) {
    const reason = (error as { reason?: unknown }).reason;
    throw new TlsFilesError(`${option} '${path}' is not ${expected}${typeof reason === 'string' ? ` (${reason})` : ''}`, error);
  }
}

/** `no such file or directory (ENOENT)` from Node's `ENOENT: no such file or directory, open '...'`. */
function systemReason(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  const words = /^E[A-Z]+: ([^,]+)/.exec(message)?.[1] ?? message;
  return code === undefined ? words : `${words} (${code})`;
}
