/**
 * Certificates made at test time with Debian's `openssl` command, in a temporary folder that
 * `remove()` deletes: nothing secret is ever committed, and every run has keys of its own.
 *
 * The server's certificate is issued by an intermediate CA and its file holds the chain (leaf,
 * then intermediate), as a real deployment's does; a client trusts the root alone, so every
 * TLS test also proves that the chain is sent. Keys are P-256: quick to make, and what most
 * servers use today.
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A certificate file (PEM, possibly a chain) and its key file. */
export interface CertificateFiles {
  readonly cert: string;
  readonly key: string;
}

export interface TestCertificates {
  readonly dir: string;
  /** The root CA that clients (and, for mutual TLS, the server) trust: `ca.cert` is its certificate. */
  readonly ca: CertificateFiles;
  /** For `localhost`, `127.0.0.1` and `::1`; the file holds the leaf and the intermediate CA. */
  readonly server: CertificateFiles;
  /** A second server certificate for the same names, with a key of its own: what a reload brings in. */
  readonly renewed: CertificateFiles;
  /** A client certificate (`CN=test client`, extended key usage clientAuth) from the same CA. */
  readonly client: CertificateFiles;
  /** A server certificate for `localhost` that expired in 2020. */
  readonly expired: CertificateFiles;
  /** A server certificate for `other.example` only. */
  readonly otherName: CertificateFiles;
  /** A CA nobody trusts, and a client certificate it issued. */
  readonly strangerCa: CertificateFiles;
  readonly strangerClient: CertificateFiles;
  /** Reads a file of the set (a path above) as text. */
  read(path: string): string;
  /** Writes a file in the folder (for a test that replaces a certificate) and returns its path. */
  write(name: string, text: string): string;
  remove(): void;
}

/**
 * Whether the `openssl` command is there to make certificates with: false is the reason a test
 * that needs it gives for skipping (`{ skip: NO_OPENSSL }`).
 */
export const NO_OPENSSL: string | false = spawnSync('openssl', ['version']).status === 0 ? false : "Debian's openssl command is not installed (apt-get install openssl)";

const CONFIG = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused

[root_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash

[intermediate_ca]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1
authorityKeyIdentifier = keyid

[other_name]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:other.example
authorityKeyIdentifier = keyid

[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid

# For the expired certificate: only 'openssl ca' takes a start and an end date (OpenSSL 3.0).
[ca]
default_ca = issuer
[issuer]
database = $dir/index.txt
new_certs_dir = $dir
serial = $dir/serial
default_md = sha256
policy = any_name
unique_subject = no
[any_name]
commonName = supplied
`;

/** Makes the whole set in a new temporary folder (about a second on a busy machine). */
export async function makeCertificates(): Promise<TestCertificates> {
  const dir = mkdtempSync(join(tmpdir(), 'multi-socket-certs-'));
  const config = join(dir, 'openssl.cnf');
  writeFileSync(config, CONFIG.replaceAll('$dir', dir));
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '01\n');
  const path = (name: string): string => join(dir, name);
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  const serial = (): string => `0x${randomBytes(8).toString('hex')}`;

  const selfSigned = async (name: string, subject: string): Promise<CertificateFiles> => {
    const files = { cert: path(`${name}.pem`), key: path(`${name}.key`) };
    await run('openssl', ['req', '-x509', '-new', '-config', config, '-extensions', 'root_ca', ...newKey, '-keyout', files.key, '-out', files.cert, '-days', '2', '-subj', subject]);
    return files;
  };
  const request = async (name: string, subject: string): Promise<{ key: string; csr: string }> => {
    const made = { key: path(`${name}.key`), csr: path(`${name}.csr`) };
    await run('openssl', ['req', '-new', '-config', config, ...newKey, '-keyout', made.key, '-out', made.csr, '-subj', subject]);
    return made;
  };
  const issue = async (name: string, subject: string, issuer: CertificateFiles, profile: string): Promise<CertificateFiles> => {
    const { key, csr } = await request(name, subject);
    const cert = path(`${name}.pem`);
    await run('openssl', ['x509', '-req', '-in', csr, '-CA', issuer.cert, '-CAkey', issuer.key, '-set_serial', serial(), '-days', '2', '-extfile', config, '-extensions', profile, '-out', cert]);
    return { cert, key };
  };
  /** A leaf with its issuer after it in one file: the chain a server sends. */
  const chained = (leaf: CertificateFiles, issuer: CertificateFiles): CertificateFiles => {
    const cert = leaf.cert.replace(/\.pem$/, '-chain.pem');
    writeFileSync(cert, readFileSync(leaf.cert, 'utf8') + readFileSync(issuer.cert, 'utf8'));
    return { cert, key: leaf.key };
  };

  const [ca, strangerCa] = await Promise.all([selfSigned('ca', '/CN=multi-socket test root CA'), selfSigned('stranger-ca', '/CN=stranger CA')]);
  const intermediate = await issue('intermediate', '/CN=multi-socket test intermediate CA', ca, 'intermediate_ca');
  const [server, renewed, client, otherName, strangerClient] = await Promise.all([
    issue('server', '/CN=localhost', intermediate, 'server'),
    issue('renewed', '/CN=localhost', intermediate, 'server'),
    issue('client', '/CN=test client', ca, 'client'),
    issue('other-name', '/CN=other.example', intermediate, 'other_name'),
    issue('stranger-client', '/CN=stranger client', strangerCa, 'client'),
  ]);
  const expiredRequest = await request('expired', '/CN=localhost');
  const expired = { cert: path('expired.pem'), key: expiredRequest.key };
  await run('openssl', [
    'ca', '-batch', '-notext', '-config', config, '-cert', intermediate.cert, '-keyfile', intermediate.key, '-in', expiredRequest.csr, '-out', expired.cert,
    '-startdate', '20200101000000Z', '-enddate', '20200102000000Z', '-extfile', config, '-extensions', 'server',
  ]);

  return {
    dir,
    ca,
    server: chained(server, intermediate),
    renewed: chained(renewed, intermediate),
    client,
    expired: chained(expired, intermediate),
    otherName: chained(otherName, intermediate),
    strangerCa,
    strangerClient,
    read: (file) => readFileSync(file, 'utf8'),
    write: (name, text) => {
      writeFileSync(path(name), text);
      return path(name);
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
