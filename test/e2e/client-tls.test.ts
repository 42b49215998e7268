/**
 * The client's TLS against a terminator nobody here wrote: socat (Debian's, OpenSSL underneath)
 * takes TLS on a port of its own and forwards the plain stream to our server. Certificates are
 * made for the run with Debian's openssl.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { makeCertificates, NO_OPENSSL, opensslFingerprint, type CertificateFiles, type TestCertificates } from '../support/certs.js';
import {
  ChildProc,
  GOT_RESPONSE,
  STACK_TRACE,
  killAll,
  spawnClient,
  spawnListeningServer,
  spawnShell,
  statisticsChecks,
  waitForLines,
  type ListeningServer,
} from '../support/process.js';

const SOCAT = '/usr/bin/socat';
const STATISTICS_ANSWER = /^got response: b'Statistics: \d+ symbols was delivered'$/;
const missing = !existsSync(SOCAT) ? `${SOCAT} is not installed (apt-get install -y socat)` : NO_OPENSSL === false ? undefined : NO_OPENSSL;
/** Who issues the server certificates of the set (see test/support/certs.ts). */
const CA_NAME = 'multi-socket test intermediate CA';
const STRANGER_CA = 'stranger CA';

interface Terminator {
  readonly proc: ChildProc;
  readonly port: number;
}

let certs: TestCertificates;
let server: ListeningServer;

/** socat terminating TLS with `pair` on a port it picks, in front of our plain server. */
async function terminator(pair: CertificateFiles, clientCa?: string): Promise<Terminator> {
  const verify = clientCa === undefined ? 'verify=0' : `verify=1,cafile=${clientCa}`;
  const proc = new ChildProc(
    'socat',
    SOCAT,
    ['-d', '-d', `openssl-listen:0,bind=127.0.0.1,reuseaddr,fork,cert=${pair.cert},key=${pair.key},${verify}`, `tcp:127.0.0.1:${server.port}`],
    'ignore',
  );
  const match = await proc.err.waitForLine(/listening on AF=2 127\.0\.0\.1:(\d+)/);
  return { proc, port: Number(match[1]) };
}

/** The client against `port`, expected to end at once with one error line (in json mode, one `tls-` event) and exit 1. */
async function refusedClient(port: number, options: readonly string[], mode = 'user'): Promise<{ client: ChildProc; errors: string[] }> {
  const client = spawnClient(['127.0.0.1', String(port), mode, ...options]);
  assert.deepEqual(await client.waitForExit(), { code: 1, signal: null }, client.describe());
  const errors = client.out.lines.filter((line) => (mode === 'json' ? /"event":"tls-/.test(line) : line.startsWith('error:')));
  assert.equal(errors.length, 1, client.describe());
  assert.ok(!client.out.lines.some((line) => GOT_RESPONSE.test(line)), client.describe());
  assert.doesNotMatch(client.err.text + client.out.text, STACK_TRACE, client.describe());
  return { client, errors };
}

/** Streams, asks for statistics twice, and quits: every answer matches the client's own count. */
async function streamsWithExactStatistics(client: ChildProc): Promise<void> {
  await waitForLines(client, GOT_RESPONSE, 2);
  client.write('s');
  await client.waitForLine(STATISTICS_ANSWER);
  await waitForLines(client, GOT_RESPONSE, 2);
  client.write('s');
  await client.waitForLine(STATISTICS_ANSWER);
  client.write('q');
  assert.deepEqual(await client.waitForExit(), { code: 0, signal: null }, client.describe());
  const checks = statisticsChecks(client.out.lines);
  assert.equal(checks.length, 2, client.describe());
  for (const check of checks) assert.equal(check.reported, check.counted, client.describe());
  assert.ok(checks.some((check) => check.reported > 0), client.describe());
}

describe('client TLS through socat', { skip: missing, concurrency: true }, () => {
  let trusted: Terminator;
  let otherName: Terminator;
  let expired: Terminator;
  let stranger: Terminator;
  let mutual: Terminator;

  before(async () => {
    certs = await makeCertificates();
    server = await spawnListeningServer();
    [trusted, otherName, expired, stranger, mutual] = await Promise.all([
      terminator(certs.server),
      terminator(certs.otherName),
      terminator(certs.expired),
      terminator(certs.strangerServer),
      terminator(certs.server, certs.ca.cert),
    ]);
  });

  after(async () => {
    await killAll();
    certs.remove();
  });

  test('--tls-ca: verified, streams, and every statistics answer is exact', async () => {
    await streamsWithExactStatistics(spawnClient(['127.0.0.1', String(trusted.port), '--tls-ca', certs.ca.cert]));
  });

  test('a certificate for another name: one line with the name, the issuer and why; exit 1', async () => {
    const { errors } = await refusedClient(otherName.port, ['--tls-ca', certs.ca.cert]);
    assert.equal(
      errors[0],
      `error: TLS certificate of ('127.0.0.1', ${otherName.port}) not trusted for the name '127.0.0.1' (subject 'other.example', issuer '${CA_NAME}'): ` +
        `it is for 'DNS:other.example', not that name (--tls-servername NAME checks another) (ERR_TLS_CERT_ALTNAME_INVALID)`,
    );
  });

  test('--tls-servername makes a certificate for another name verify', async () => {
    await streamsWithExactStatistics(spawnClient(['127.0.0.1', String(otherName.port), '--tls-ca', certs.ca.cert, '--tls-servername', 'other.example']));
  });

  test('an expired certificate: one line with its end date; exit 1', async () => {
    const { errors } = await refusedClient(expired.port, ['--tls-ca', certs.ca.cert]);
    assert.match(errors[0] ?? '', new RegExp(`^error: TLS certificate of \\('127\\.0\\.0\\.1', ${expired.port}\\) not trusted for the name '127\\.0\\.0\\.1' \\(subject 'localhost', issuer '${CA_NAME}'\\): it expired on '[A-Z][a-z]{2} [ \\d]\\d [\\d:]{8} \\d{4} GMT' \\(CERT_HAS_EXPIRED\\)$`));
  });

  test('a CA the system does not trust, with --tls only: one line, exit 1, not retried even with --reconnect', async () => {
    const { client, errors } = await refusedClient(trusted.port, ['--tls', '--reconnect']);
    // The certificate comes with its intermediate, whose own issuer (the root) is unknown here.
    assert.match(errors[0] ?? '', new RegExp(`issuer '${CA_NAME}'\\): its issuer is not a trusted CA \\(--tls-ca FILE trusts one\\) \\(UNABLE_TO_GET_ISSUER_CERT_LOCALLY\\)$`));
    assert.ok(!client.out.lines.some((line) => line.startsWith('reconnecting')), client.describe());
  });

  test('a certificate from another CA than --tls-ca names, in json mode: the tls-untrusted event', async () => {
    const { client } = await refusedClient(stranger.port, ['--tls-ca', certs.ca.cert], 'json');
    const event = client.out.lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line['event'] === 'tls-untrusted');
    assert.ok(event !== undefined, client.describe());
    assert.equal(event['code'], 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    assert.equal(event['issuer'], STRANGER_CA);
    assert.equal(event['fingerprint'], opensslFingerprint(certs.strangerServer.cert));
  });

  test('--insecure: a warning with the SHA-256 fingerprint openssl gives, then the stream', async () => {
    const client = spawnClient(['127.0.0.1', String(stranger.port), 'quiet', '--insecure']);
    const warning = await client.waitForLine(/^warning: --insecure: /);
    assert.equal(
      warning.input,
      `warning: --insecure: the TLS certificate of ('127.0.0.1', ${stranger.port}) is not verified ` +
        `(SHA-256 fingerprint ${opensslFingerprint(certs.strangerServer.cert)}, subject 'localhost', issuer '${STRANGER_CA}'; it would not verify: UNABLE_TO_VERIFY_LEAF_SIGNATURE)`,
    );
    client.write('s');
    await client.waitForLine(/^Statistics: \d+ symbols was delivered$/);
    client.write('q');
    assert.deepEqual(await client.waitForExit(), { code: 0, signal: null }, client.describe());
  });

  test('mutual TLS: with --tls-cert and --tls-key the client streams', async () => {
    await streamsWithExactStatistics(spawnClient(['127.0.0.1', String(mutual.port), '--tls-ca', certs.ca.cert, '--tls-cert', certs.client.cert, '--tls-key', certs.client.key]));
  });

  test('mutual TLS: without a client certificate the refusal is one clear line, exit 1', async () => {
    const { errors } = await refusedClient(mutual.port, ['--tls-ca', certs.ca.cert, '--reconnect']);
    assert.match(errors[0] ?? '', new RegExp(`^error: TLS handshake with \\('127\\.0\\.0\\.1', ${mutual.port}\\) failed: .*client certificate \\(--tls-cert FILE --tls-key FILE\\) \\(ERR_SSL_\\w+\\)$`));
  });
});

describe('client TLS options', { concurrency: true }, () => {
  /** The client's first line on stderr, after checking that it exits with 2 and prints nothing else. */
  const usageError = async (args: readonly string[], environment = ''): Promise<string> => {
    const client = environment === '' ? spawnClient(['127.0.0.1', '1', ...args], 'ignore') : spawnShell(`${environment} "$NODE" "$CLIENT" 127.0.0.1 1 </dev/null`);
    assert.deepEqual(await client.waitForExit(), { code: 2, signal: null }, client.describe());
    assert.equal(client.out.text, '', client.describe());
    return client.err.lines[0] ?? '';
  };

  test('a file that cannot be read: one line naming the option and the file, exit 2', async () => {
    assert.equal(await usageError(['--tls-ca', '/nonexistent/ca.pem']), "multi-socket-client: cannot read --tls-ca file '/nonexistent/ca.pem': no such file or directory (ENOENT)");
  });

  test('--tls-cert without --tls-key, and --insecure with --tls-ca, are bad command lines', async () => {
    assert.match(await usageError(['--tls-cert', '/dev/null']), /--tls-cert and --tls-key go together/);
    assert.match(await usageError(['--insecure', '--tls-ca', '/dev/null']), /--insecure verifies nothing/);
  });

  test('a file with no certificate in it names the option; from the environment, its variable', async () => {
    assert.match(await usageError(['--tls-ca', '/dev/null']), /^multi-socket-client: --tls-ca '\/dev\/null': no PEM certificate in it$/);
    assert.match(await usageError([], 'MULTI_SOCKET_CLIENT_TLS_CA=/dev/null'), /^multi-socket-client: MULTI_SOCKET_CLIENT_TLS_CA '\/dev\/null': no PEM certificate in it$/);
  });
});
