/**
 * The built server with TLS and the PROXY protocol, from outside: programs nobody here wrote
 * (`openssl s_client`, `socat`) stream from it and get exact statistics; SIGHUP replaces the
 * certificate for new connections while old ones keep streaming, keeps the old one when a file
 * is bad (saying why), says there is nothing to reload without TLS, and never stops the server;
 * with `--workers` the primary passes it on and says once how it went; a fake load balancer's
 * addresses are the clients' in lines and json; the new options' mistakes are bad command lines.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { FrameDecoder } from '../../src/protocol/decoder.js';
import { MessageType, SERVER_HEADER_KEYS } from '../../src/protocol/frame.js';
import { encodeClientRequest, messageTypeOf, parseStatistics } from '../../src/protocol/messages.js';
import { encodeProxyHeader } from '../../src/protocol/proxy-header.js';
import { makeCertificates, NO_OPENSSL, type CertificateFiles, type TestCertificates } from '../support/certs.js';
import { RawClient } from '../support/net.js';
import { killAll, spawnListeningServer, spawnServer, type ChildProc } from '../support/process.js';
import { assertSeededFlood } from '../support/symbols.js';
import { withTimeout } from '../support/wait.js';

after(async () => {
  await killAll();
});

const FAST = ['--interval', '0.05-0.15'] as const;
const NO_SOCAT = spawnSync('socat', ['-V']).status === 0 ? false : 'socat is not installed (apt-get install socat)';

let certs: TestCertificates;
const trusting = () => ({ ca: certs.read(certs.ca.cert) });

/** The files a server is started with, copied so that a test can replace them under it. */
function ownFiles(name: string, from: CertificateFiles): CertificateFiles {
  const files = { cert: join(certs.dir, `${name}.crt`), key: join(certs.dir, `${name}.pem`) };
  copyFileSync(from.cert, files.cert);
  copyFileSync(from.key, files.key);
  return files;
}

function fingerprintOf(client: RawClient): string | undefined {
  return (client.socket as TLSSocket).getPeerX509Certificate()?.fingerprint256;
}

/** Chunks keep coming, and an answer equals what the client counted. */
async function assertStreaming(client: RawClient): Promise<void> {
  client.clearQueue();
  await client.nextFrames(2, MessageType.symbols);
  const answer = await client.statistics();
  assert.equal(answer.count, answer.receivedSinceLast, `${client.label}: exact`);
}

/**
 * Runs a program that nobody here wrote as a TLS client: it gets a real request frame on its
 * stdin once the first chunk is out, and the frames it prints are decoded. Resolves with the
 * statistics answer and the symbols received before it.
 */
async function foreignClient(command: string, args: readonly string[]): Promise<{ reported: number; counted: number; stderr: string }> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const decoder = new FrameDecoder({ maxHeaderLength: 1024, maxContentLength: 1 << 20, requiredKeys: SERVER_HEADER_KEYS });
  let counted = 0;
  let asked = false;
  try {
    // The count is taken with the answer: chunks that follow it in the same read are not part of it.
    const answer = await withTimeout(
      new Promise<{ reported: number; counted: number }>((resolve, reject) => {
        child.on('exit', (code) => reject(new Error(`${command} exited (${String(code)}): ${stderr}`)));
        child.stdout.on('data', (data: Buffer) => {
          decoder.push(data, (frame) => {
            const type = messageTypeOf(frame);
            if (type === MessageType.symbols) counted += frame.content.length;
            if (type === MessageType.statistics) {
              resolve({ reported: parseStatistics(frame.content) ?? Number.NaN, counted });
              return false;
            }
            if (!asked && counted >= 3) {
              asked = true;
              child.stdin.write(encodeClientRequest('s'));
            }
            return true;
          });
        });
      }),
      8_000,
      `a statistics answer through ${command}`,
    );
    return { ...answer, stderr };
  } finally {
    child.kill('SIGKILL');
  }
}

async function tlsServerProc(mode: string, extra: readonly string[], files: CertificateFiles = certs.server): Promise<{ proc: ChildProc; port: number }> {
  const server = await spawnListeningServer('127.0.0.1', mode, [...FAST, '--tls-cert', files.cert, '--tls-key', files.key, ...extra]);
  return { proc: server.proc, port: server.port };
}

async function stop(proc: ChildProc): Promise<void> {
  proc.kill('SIGTERM');
  assert.deepEqual(await proc.waitForExit(), { code: 0, signal: null }, proc.describe());
}

describe('the built server over TLS', { skip: NO_OPENSSL, concurrency: true }, () => {
  before(async () => {
    certs = await makeCertificates();
  });
  after(() => certs.remove());

  test('openssl s_client streams chunks and gets exact statistics, with and without a client certificate', async () => {
    const { proc, port } = await tlsServerProc('quiet', ['--tls-client-auth', 'require', '--tls-ca', certs.ca.cert]);
    const common = ['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', certs.ca.cert, '-verify_return_error', '-verify_hostname', 'localhost', '-quiet'];
    const served = await foreignClient('openssl', [...common, '-cert', certs.client.cert, '-key', certs.client.key]);
    assert.equal(served.reported, served.counted, 'the answer counts what s_client received');
    assert.match(served.stderr, /verify return:1/);

    // Without a certificate, the server refuses it and says why, in quiet mode too.
    const refused = spawnSync('openssl', [...common], { input: '', timeout: 8_000, encoding: 'utf8' });
    assert.notEqual(refused.status, 0, refused.stderr);
    await proc.waitForLine(/^error: TLS handshake failed from \('127\.0\.0\.1', \d+\): peer did not return a certificate \(ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE\)$/);
    await stop(proc);
  });

  test('a flooding client gets its seeded stream over TLS too: the symbols lent to the TLS socket stay as they were until sent', async () => {
    const chars = { min: 30_000, max: 70_000 };
    const server = await spawnListeningServer('127.0.0.1', 'quiet', ['--seed', '5', '--interval', '0-0', '--chars', `${chars.min}-${chars.max}`, '--tls-cert', certs.server.cert, '--tls-key', certs.server.key]);
    const client = await RawClient.connect(server.port, { tls: trusting() });
    const frames = await client.nextFrames(60, MessageType.symbols, 30_000);
    client.destroy();
    assertSeededFlood(frames, 5, chars);
    await stop(server.proc);
  });

  test('socat streams chunks and gets exact statistics', { skip: NO_SOCAT }, async () => {
    const { proc, port } = await tlsServerProc('quiet', []);
    const served = await foreignClient('socat', ['-T', '10', '-', `OPENSSL:127.0.0.1:${port},cafile=${certs.ca.cert},verify=1`]);
    assert.equal(served.reported, served.counted);
    await stop(proc);
  });

  test('plaintext to the TLS port is refused with its reason, in user mode, and the server goes on', async () => {
    const { proc, port } = await tlsServerProc('user', []);
    const plain = await RawClient.connect(port);
    await plain.request('s');
    await plain.waitClosed();
    await proc.waitForLine(new RegExp(`^error: TLS handshake failed from \\('127\\.0\\.0\\.1', ${plain.localPort}\\): wrong version number \\(ERR_SSL_WRONG_VERSION_NUMBER\\)$`));
    const client = await RawClient.connect(port, { tls: trusting() });
    await assertStreaming(client);
    await proc.waitForLine(new RegExp(`^accepted connection from \\('127\\.0\\.0\\.1', ${client.localPort}\\)$`), { fromStart: true });
    client.destroy();
    await stop(proc);
  });

  test('SIGHUP: new connections get the new certificate, open ones keep streaming, a bad file keeps the old one and says why', async () => {
    const files = ownFiles('reload', certs.server);
    const { proc, port } = await tlsServerProc('quiet', [], files);
    const old = await RawClient.connect(port, { tls: trusting() });
    const before = fingerprintOf(old);
    await assertStreaming(old);

    copyFileSync(certs.renewed.cert, files.cert);
    copyFileSync(certs.renewed.key, files.key);
    proc.kill('SIGHUP');
    await proc.waitForLine(/^reloaded the TLS certificate and key for new connections: CN=localhost, valid until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const renewed = await RawClient.connect(port, { tls: trusting() });
    const after = fingerprintOf(renewed);
    assert.notEqual(after, before, 'a new connection sees the new certificate');
    await Promise.all([assertStreaming(old), assertStreaming(renewed)]);

    // A key that is not the certificate's: the renewed pair stays.
    copyFileSync(certs.server.key, files.key);
    proc.kill('SIGHUP');
    await proc.waitForLine(
      new RegExp(`^error: TLS reload failed, still using the previous certificate and key: --tls-key '${files.key}' is not the key of the certificate in --tls-cert '${files.cert}'$`),
    );
    // A missing file: the same.
    rmSync(files.key);
    proc.kill('SIGHUP');
    await proc.waitForLine(new RegExp(`^error: TLS reload failed, still using the previous certificate and key: cannot read --tls-key '${files.key}': no such file or directory \\(ENOENT\\)$`));
    const later = await RawClient.connect(port, { tls: trusting() });
    assert.equal(fingerprintOf(later), after, 'still the renewed certificate');
    await Promise.all([old, renewed, later].map(assertStreaming));
    for (const client of [old, renewed, later]) client.destroy();
    await stop(proc);
  });

  test('SIGHUP with --workers: every worker reloads, one line says so, and a failure is counted per worker', async () => {
    const files = ownFiles('workers', certs.server);
    const { proc, port } = await tlsServerProc('quiet', ['--workers', '2'], files);
    // node:cluster deals connections in turn: four land on both workers.
    const first = await Promise.all([1, 2, 3, 4].map(() => RawClient.connect(port, { tls: trusting() })));
    const before = fingerprintOf(first[0] as RawClient);
    copyFileSync(certs.renewed.cert, files.cert);
    copyFileSync(certs.renewed.key, files.key);
    proc.kill('SIGHUP');
    await proc.waitForLine(/^reloaded the TLS certificate and key for new connections \(2 workers\): CN=localhost, valid until /);
    const second = await Promise.all([1, 2, 3, 4].map(() => RawClient.connect(port, { tls: trusting() })));
    for (const client of second) assert.notEqual(fingerprintOf(client), before, `${client.label} sees the new certificate`);
    await Promise.all([...first, ...second].map(assertStreaming));

    rmSync(files.key);
    proc.kill('SIGHUP');
    await proc.waitForLine(/^error: TLS reload failed \(in 2 of 2 workers\), still using the previous certificate and key: cannot read --tls-key /);
    await Promise.all(first.map(assertStreaming));
    assert.equal(proc.out.lines.filter((line) => /reload/.test(line)).length, 2, proc.describe());
    for (const client of [...first, ...second]) client.destroy();
    await stop(proc);
  });
});

describe('the built server without TLS', { concurrency: true }, () => {
  test('SIGHUP says there is nothing to reload, and never stops the server, with or without --workers', async () => {
    for (const workers of ['1', '2']) {
      const server = await spawnListeningServer('127.0.0.1', 'quiet', [...FAST, '--workers', workers]);
      const client = await RawClient.connect(server.port);
      for (let i = 0; i < 2; i++) {
        server.proc.kill('SIGHUP');
        await server.proc.waitForLine(/^SIGHUP: nothing to reload \(no --tls-cert\); the server carries on$/);
      }
      await assertStreaming(client);
      client.destroy();
      await stop(server.proc);
    }
  });

  test("--proxy-protocol: a load balancer's client addresses are the ones in the lines and in json", async () => {
    for (const mode of ['user', 'json']) {
      const server = await spawnListeningServer('127.0.0.1', mode, [...FAST, '--proxy-protocol']);
      const source = { family: 'IPv4', host: '203.0.113.9', port: 41000 } as const;
      const header = encodeProxyHeader(2, { command: 'proxy', source, destination: { family: 'IPv4', host: '127.0.0.1', port: server.port } });
      const client = await RawClient.connect(server.port, { proxy: { header, source } });
      await assertStreaming(client);
      if (mode === 'user') {
        await server.proc.waitForLine(/^accepted connection from \('203\.0\.113\.9', 41000\)$/, { fromStart: true });
        await server.proc.waitForLine(/^sending b'Statistics: \d+ symbols was delivered' to \('203\.0\.113\.9', 41000\)$/, { fromStart: true });
      } else {
        const { input } = await server.proc.waitForLine(/"event":"accepted"/, { fromStart: true });
        assert.deepEqual((JSON.parse(input ?? '') as { peer: unknown }).peer, { id: 1, host: '203.0.113.9', port: 41000 });
      }
      // A health check: nothing in user mode, an event in json.
      const check = await RawClient.connect(server.port, { proxy: { header: encodeProxyHeader(2, { command: 'local' }) } });
      await check.waitClosed();
      if (mode === 'json') await server.proc.waitForLine(/"event":"health-check","peer":\{"id":2,"host":"127\.0\.0\.1",/);
      client.destroy();
      await stop(server.proc);
      if (mode === 'user') assert.ok(!server.proc.out.lines.some((line) => /health/.test(line)), server.proc.describe());
    }
  });

  test('the new options: each mistake is one line and exit 2', { skip: NO_OPENSSL }, async () => {
    const set = await makeCertificates();
    try {
      const cases: [readonly string[], RegExp][] = [
        [['--tls-cert', set.server.cert], /^multi-socket-server: --tls-cert and --tls-key need each other$/],
        [['--tls-cert', set.server.cert, '--tls-key', join(set.dir, 'nope.key')], /^multi-socket-server: cannot read --tls-key '.*nope\.key': no such file or directory \(ENOENT\)$/],
        [['--tls-cert', set.server.cert, '--tls-key', set.renewed.key], /^multi-socket-server: --tls-key '.*' is not the key of the certificate in --tls-cert '.*'$/],
        [['--tls-cert', set.server.cert, '--tls-key', set.server.key, '--tls-client-auth', 'require'], /^multi-socket-server: --tls-client-auth and --tls-ca need each other$/],
        [['--tls-ca', set.ca.cert, '--tls-client-auth', 'request'], /^multi-socket-server: --tls-ca and --tls-client-auth need --tls-cert and --tls-key$/],
        [['--tls-client-auth', 'maybe'], /^multi-socket-server: invalid --tls-client-auth 'maybe': expected request or require$/],
        [['--proxy-trusted', '10.0.0.0/8'], /^multi-socket-server: --proxy-trusted needs --proxy-protocol$/],
        [['--proxy-protocol', '--proxy-trusted', '10.0.0.1/8'], /^multi-socket-server: invalid --proxy-trusted '10\.0\.0\.1\/8': '10\.0\.0\.1\/8' has bits set past its \/8 prefix; /],
        [['--max-clients-per-address', '0'], /^multi-socket-server: invalid --max-clients-per-address '0': expected a whole number from 1 to 10000000$/],
      ];
      for (const [args, line] of cases) {
        const proc = spawnServer(['127.0.0.1', '0', ...args]);
        assert.deepEqual(await proc.waitForExit(), { code: 2, signal: null }, proc.describe());
        assert.match(proc.err.lines[0] ?? '', line, proc.describe());
        assert.equal(proc.out.text, '');
      }
    } finally {
      set.remove();
    }
  });
});
