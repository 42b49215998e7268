/**
 * TLS on the client port, with the real server in this process and node:tls clients: chunks and
 * exact statistics over TLS (the certificate chain verified against the root alone), TLS 1.2 and
 * newer only, mutual TLS asked and required, and the handshake deadline: a peer that says
 * nothing, trickles, or speaks plaintext is closed and counted, and a bystander notices nothing.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { connect as connectTls, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { MessageType } from '../../src/protocol/frame.js';
import { encodeClientRequest } from '../../src/protocol/messages.js';
import type { ClientAuth } from '../../src/transport/tls-credentials.js';
import { makeCertificates, NO_OPENSSL, type TestCertificates } from '../support/certs.js';
import { assertChunk, assertExactAnswers, TestServer } from '../support/net.js';
import { withTimeout } from '../support/wait.js';

const DEADLINE_MS = 400;
const FAST = { interval: { min: 0.03, max: 0.08 } };

let certs: TestCertificates;
/** What a client that trusts our root CA (and nothing else) connects with. */
const trusting = (extra: ConnectionOptions = {}): ConnectionOptions => ({ ca: certs.read(certs.ca.cert), ...extra });
const withClientCert = (files = certs.client): ConnectionOptions => trusting({ cert: certs.read(files.cert), key: certs.read(files.key) });

async function tlsServer(clientAuth: ClientAuth = 'none', frameTimeoutMs = 10_000): Promise<TestServer> {
  const files = clientAuth === 'none' ? certs.server : { ...certs.server, ca: certs.ca.cert };
  return TestServer.start({ ...FAST, frameTimeoutMs, tls: { files, clientAuth } });
}

/** A node:tls connection that the server may refuse: how it ended, seen from the client. */
async function attempt(port: number, options: ConnectionOptions): Promise<{ secure: boolean; error: NodeJS.ErrnoException | undefined; bytes: number }> {
  const socket = connectTls({ host: '127.0.0.1', port, ...options });
  let secure = false;
  let error: NodeJS.ErrnoException | undefined;
  let bytes = 0;
  socket.on('secureConnect', () => {
    secure = true;
    // Ask, so that a server that let it in answers.
    socket.write(encodeClientRequest('s'));
  });
  socket.on('data', (data: Buffer) => (bytes += data.length));
  socket.on('error', (failure: NodeJS.ErrnoException) => {
    error ??= failure;
  });
  await withTimeout(new Promise((resolve) => socket.once('close', resolve)), 3_000, 'the refused connection to close');
  return { secure, error, bytes };
}

/** A raw TCP connection that never speaks TLS. */
async function rawConnection(port: number): Promise<{ socket: Socket; closed: Promise<number> }> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.once('connect', resolve));
  const opened = performance.now();
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now() - opened)));
  return { socket, closed };
}

void describe('TLS on the client port', { skip: NO_OPENSSL }, () => {
  before(async () => {
    certs = await makeCertificates();
  });
  after(() => certs.remove());

  void describe('serving', () => {
    let server: TestServer;
    before(async () => {
      server = await tlsServer();
    });
    after(() => server.stop());

    void it('streams chunks and exact statistics to TLS clients, the chain checked against the root alone', async () => {
      const clients = await Promise.all([1, 2, 3].map(() => server.connect({ tls: trusting() })));
      for (const client of clients) {
        const socket = client.socket as TLSSocket;
        assert.equal(socket.authorized, true, `${client.label}: ${String(socket.authorizationError)}`);
        assert.equal(socket.getPeerX509Certificate()?.subject, 'CN=localhost');
        assertChunk(await client.nextFrame(MessageType.symbols), server.config);
      }
      await Promise.all(clients.map(assertExactAnswers));
      const accepted = await server.waitForEvent('accepted', { client: clients[2] });
      assert.equal(accepted.peer.host, '127.0.0.1');
      assert.equal(server.server.stats().tlsErrors['ECONNRESET'] ?? 0, 0);
    });

    void it('speaks TLS 1.2 and 1.3, and refuses 1.1 with the reason reported', async () => {
      for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
        const client = await server.connect({ tls: trusting({ minVersion: version, maxVersion: version }) });
        assert.equal((client.socket as TLSSocket).getProtocol(), version);
        await assertExactAnswers(client);
      }
      const since = server.events.length;
      // Node's own client will not offer 1.1 unless told its security level allows it.
      const old = await attempt(server.port, trusting({ minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }));
      assert.equal(old.secure, false);
      const refused = await server.waitForEvent('tls-error', { since });
      assert.equal(refused.error.code, 'ERR_SSL_UNSUPPORTED_PROTOCOL');
      assert.equal(refused.error.message, 'unsupported protocol');
    });
  });

  void describe('mutual TLS', () => {
    void it('require: serves a client with a certificate from --tls-ca, refuses one without, a stranger, expired or server one, saying why', async () => {
      const server = await tlsServer('require');
      try {
        const good = await server.connect({ tls: withClientCert() });
        await assertExactAnswers(good);

        const none = await attempt(server.port, trusting());
        assert.equal(none.bytes, 0, 'not served');
        assert.equal(none.error?.code, 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'the client is told a certificate is required');
        const missing = await server.waitForEvent('tls-error', { where: (event) => event.error.code === 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE' });
        assert.equal(missing.error.message, 'peer did not return a certificate');

        const stranger = await attempt(server.port, withClientCert(certs.strangerClient));
        assert.equal(stranger.bytes, 0, 'not served');
        const untrusted = await server.waitForEvent('tls-error', { where: (event) => event.error.code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
        assert.match(untrusted.error.message, /^client certificate refused: unable to verify the first certificate/);

        // From our CA, but expired; and one for a server, not a client.
        await attempt(server.port, withClientCert(certs.expired));
        const expired = await server.waitForEvent('tls-error', { where: (event) => event.error.code === 'CERT_HAS_EXPIRED' });
        assert.equal(expired.error.message, 'client certificate refused: certificate has expired');
        await attempt(server.port, withClientCert(certs.otherName));
        const purpose = await server.waitForEvent('tls-error', { where: (event) => event.error.code === 'INVALID_PURPOSE' });
        assert.match(purpose.error.message, /^client certificate refused: unsupported certificate purpose/);

        assert.deepEqual(server.server.stats().tlsErrors, {
          ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE: 1,
          UNABLE_TO_VERIFY_LEAF_SIGNATURE: 1,
          CERT_HAS_EXPIRED: 1,
          INVALID_PURPOSE: 1,
        });
        assert.equal(server.server.clients, 1);
        await assertExactAnswers(good);
      } finally {
        await server.stop();
      }
    });

    void it('request: asks for a certificate and serves a client with or without one', async () => {
      const server = await tlsServer('request');
      try {
        const withCert = await server.connect({ tls: withClientCert() });
        const without = await server.connect({ tls: trusting() });
        await Promise.all([withCert, without].map(assertExactAnswers));
        assert.deepEqual(server.server.stats().tlsErrors, {});
      } finally {
        await server.stop();
      }
    });
  });

  void describe('the handshake deadline (--frame-timeout)', () => {
    let server: TestServer;
    before(async () => {
      server = await tlsServer('none', DEADLINE_MS);
    });
    after(() => server.stop());

    void it('closes a silent peer, a trickling one and a plaintext one, counts them, and a bystander notices nothing', async () => {
      const bystander = await server.connect({ tls: trusting() });
      await bystander.nextFrame(MessageType.symbols);
      const chunksBefore = bystander.symbolsReceived;

      const silent = await rawConnection(server.port);
      const trickler = await rawConnection(server.port);
      // The first bytes of a ClientHello, one every 100 ms: Node's own idle timer alone would never fire.
      const hello = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]);
      void (async () => {
        for (const byte of hello) {
          if (trickler.socket.destroyed) return;
          trickler.socket.write(Buffer.of(byte));
          await delay(100);
        }
      })();
      const plaintext = await rawConnection(server.port);
      plaintext.socket.write(encodeClientRequest('s'));

      const [silentMs, tricklerMs, plaintextMs] = await withTimeout(Promise.all([silent.closed, trickler.closed, plaintext.closed]), 5_000, 'the three to be closed');
      assert.ok(plaintextMs < DEADLINE_MS, `plaintext is refused at once, not at the deadline (${plaintextMs.toFixed(0)} ms)`);
      for (const [name, ms] of [['silent', silentMs], ['trickling', tricklerMs]] as const) {
        assert.ok(ms >= DEADLINE_MS - 20 && ms < DEADLINE_MS + 1_000, `${name} peer closed after ${ms.toFixed(0)} ms`);
      }
      const errors = server.eventsOf('tls-error');
      assert.equal(errors.filter((event) => event.error.code === 'ERR_TLS_HANDSHAKE_TIMEOUT').length, 2, JSON.stringify(errors.map((e) => e.error.message)));
      const wrong = errors.find((event) => event.error.code === 'ERR_SSL_WRONG_VERSION_NUMBER');
      assert.equal(wrong?.error.message, 'wrong version number');
      assert.match(errors.find((event) => event.error.code === 'ERR_TLS_HANDSHAKE_TIMEOUT')?.error.message ?? '', /^TLS handshake not complete within 0\.4 s$/);
      assert.deepEqual(server.server.stats().tlsErrors, { ERR_TLS_HANDSHAKE_TIMEOUT: 2, ERR_SSL_WRONG_VERSION_NUMBER: 1 });
      assert.equal(server.eventsOf('accepted').length, 1, 'only the bystander was ever a client');

      assert.equal(bystander.isClosed, false);
      assert.ok(bystander.symbolsReceived > chunksBefore, 'the bystander kept receiving');
      await assertExactAnswers(bystander);
    });

    void it('closes the connections still in their handshake when the server stops', async () => {
      const quick = await tlsServer('none', 60_000);
      const silent = await rawConnection(quick.port);
      const started = performance.now();
      await quick.stop();
      await withTimeout(silent.closed, 2_000, 'the pending connection to close');
      assert.ok(performance.now() - started < 2_000);
      assert.equal(quick.eventsOf('tls-error').length, 0, 'closing it is not its error');
    });
  });
});
