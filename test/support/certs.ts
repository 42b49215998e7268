import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's openssl: the certificates are made at test time, nothing secret is committed. */
export const OPENSSL = '/usr/bin/openssl';

export interface CertPair {
  readonly cert: string;
  readonly key: string;
}

export interface TestCerts {
  readonly dir: string;
  /** The CA that issued every certificate here (PEM), and its key. */
  readonly ca: CertPair;
  /** For `localhost`, `127.0.0.1` and `::1`. */
  readonly server: CertPair;
  /** A client certificate (CN `test client`), for mutual TLS. */
  readonly client: CertPair;
  /** For `localhost` and `127.0.0.1`, but already expired. */
  readonly expired: CertPair;
  /** For `other.example` only. */
  readonly other: CertPair;
  /** A second CA, trusted by nobody, and a `localhost` certificate it issued. */
  readonly strangerCa: CertPair;
  readonly stranger: CertPair;
  /** Removes the directory. */
  remove(): void;
}

export const CA_NAME = 'multi-socket test CA';

/**
 * Makes a CA and the certificates it issues in a new temporary directory. P-256 keys: quick to
 * make on a busy machine, and what servers use today.
 */
export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'multi-socket-certs-'));
  const path = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync(OPENSSL, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

  const selfSignedCa = (name: string, cn: string): CertPair => {
    const pair = { cert: path(`${name}.pem`), key: path(`${name}.key`) };
    openssl('req', '-x509', ...newKey, '-keyout', pair.key, '-out', pair.cert, '-subj', `/CN=${cn}`, '-days', '2', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    return pair;
  };
  /** A leaf certificate issued by `issuer`; `days` -1 makes one whose validity has already ended. */
  const issue = (name: string, issuer: CertPair, cn: string, extensions: string, days = 2): CertPair => {
    const pair = { cert: path(`${name}.pem`), key: path(`${name}.key`) };
    writeFileSync(path(`${name}.ext`), `${extensions}\n`);
    openssl('req', ...newKey, '-keyout', pair.key, '-out', path(`${name}.csr`), '-subj', `/CN=${cn}`);
    openssl('x509', '-req', '-in', path(`${name}.csr`), '-CA', issuer.cert, '-CAkey', issuer.key, '-CAcreateserial', '-days', String(days), '-extfile', path(`${name}.ext`), '-out', pair.cert);
    return pair;
  };

  const serverUse = 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth';
  const ca = selfSignedCa('ca', CA_NAME);
  const strangerCa = selfSignedCa('stranger-ca', 'a CA nobody trusts');
  return {
    dir,
    ca,
    server: issue('server', ca, 'localhost', `${serverUse}\nsubjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1`),
    client: issue('client', ca, 'test client', 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth'),
    expired: issue('expired', ca, 'localhost', `${serverUse}\nsubjectAltName=DNS:localhost,IP:127.0.0.1`, -1),
    other: issue('other', ca, 'other.example', `${serverUse}\nsubjectAltName=DNS:other.example`),
    strangerCa,
    stranger: issue('stranger', strangerCa, 'localhost', `${serverUse}\nsubjectAltName=DNS:localhost,IP:127.0.0.1`),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** `AB:CD:...`: what `openssl x509 -fingerprint -sha256` says of a certificate file. */
export function opensslFingerprint(certFile: string): string {
  const out = execFileSync(OPENSSL, ['x509', '-in', certFile, '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' });
  const match = /=([0-9A-F:]+)\s*$/.exec(out);
  if (match?.[1] === undefined) throw new Error(`no fingerprint in ${JSON.stringify(out)}`);
  return match[1];
}

export const haveOpenssl = (): boolean => existsSync(OPENSSL);
