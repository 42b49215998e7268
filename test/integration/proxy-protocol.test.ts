/**
 * `--proxy-protocol` with the real server in this process and a fake load balancer on loopback
 * that sends the headers HAProxy would (encodeProxyHeader): the address a header carries is the
 * client's everywhere (events, statistics, the per-address limit); a header from an untrusted
 * source, a bad one, or none in time closes that connection with ERR_PROXY_HEADER and counts
 * it; a v2 LOCAL health check is accepted and is not a client; the bytes after the header, in
 * the same packet, are the session's; and TLS starts after the header.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { ErrorCode } from '../../src/protocol/errors.js';
import { MessageType } from '../../src/protocol/frame.js';
import { encodeClientRequest } from '../../src/protocol/messages.js';
import { encodeProxyHeader, type ProxyAddress } from '../../src/protocol/proxy-header.js';
import type { ServerConfig } from '../../src/server/config.js';
import { LOOPBACK_RANGES, parseAddressRange, type AddressRange } from '../../src/transport/address-range.js';
import { makeCertificates, NO_OPENSSL, type TestCertificates } from '../support/certs.js';
import { assertExactAnswers, TestServer, type RawClientOptions } from '../support/net.js';
import { withTimeout } from '../support/wait.js';

const FAST = { interval: { min: 0.03, max: 0.08 } };
const DEADLINE_MS = 300;
const DESTINATION_V4: ProxyAddress = { family: 'IPv4', host: '127.0.0.1', port: 65432 };
const DESTINATION_V6: ProxyAddress = { family: 'IPv6', host: '::1', port: 65432 };

/** What a load balancer sends for a client at `host:port`; the server names it `seenAs` (the form Node gives addresses). */
function from(version: 1 | 2, host: string, port: number, seenAs = host): RawClientOptions {
  const source: ProxyAddress = { family: host.includes(':') ? 'IPv6' : 'IPv4', host, port };
  const destination = source.family === 'IPv4' ? DESTINATION_V4 : DESTINATION_V6;
  return { proxy: { header: encodeProxyHeader(version, { command: 'proxy', source, destination }), source: { host: seenAs, port } } };
}

const range = (text: string): AddressRange => {
  const parsed = parseAddressRange(text);
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed;
};

function proxyServer(overrides: Partial<ServerConfig> = {}): Promise<TestServer> {
  return TestServer.start({ ...FAST, frameTimeoutMs: DEADLINE_MS, proxy: { trusted: LOOPBACK_RANGES }, ...overrides });
}

/** A connection from the load balancer that writes `bytes` and reports how it ended. */
async function send(port: number, bytes: Buffer | undefined): Promise<{ closed: Promise<void>; received: () => number; end: () => void }> {
  const socket = connect({ host: '127.0.0.1', port });
  let received = 0;
  socket.on('data', (data: Buffer) => (received += data.length));
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.once('connect', resolve));
  if (bytes !== undefined) socket.write(bytes);
  const closed = withTimeout(new Promise<void>((resolve) => socket.once('close', () => resolve())), 3_000, 'the connection to be closed');
  return { closed, received: () => received, end: () => socket.end() };
}

void describe('the PROXY protocol (--proxy-protocol)', () => {
  void describe('from a trusted load balancer', () => {
    let server: TestServer;
    before(async () => {
      server = await proxyServer();
    });
    after(() => server.stop());

    void it('serves each client under the address its v1 or v2 header carries, IPv6 too, with exact statistics', async () => {
      const clients = [
        await server.connect(from(1, '203.0.113.7', 40001)),
        await server.connect(from(2, '198.51.100.23', 40002)),
        await server.connect(from(2, '2001:db8::42', 40003)),
        await server.connect(from(1, '2001:DB8:0:0:0:0:0:43', 40004, '2001:db8::43')),
      ];
      await Promise.all(clients.map(assertExactAnswers));
      const peers = await Promise.all(clients.map((client) => server.waitForEvent('accepted', { client })));
      assert.deepEqual(
        peers.map(({ peer }) => [peer.host, peer.port, peer.family]),
        [
          ['203.0.113.7', 40001, 'IPv4'],
          ['198.51.100.23', 40002, 'IPv4'],
          ['2001:db8::42', 40003, 'IPv6'],
          // As Node names a socket's address: lowercase, zeros compressed.
          ['2001:db8::43', 40004, 'IPv6'],
        ],
      );
      for (const client of clients) {
        assert.ok(server.eventsOf('statistics', client).length > 0, `${client.label}: its statistics events carry its address`);
      }
    });

    void it("keeps the socket's own address for a header without one (v1 UNKNOWN)", async () => {
      const client = await server.connect({ proxy: { header: encodeProxyHeader(1, { command: 'proxy' }) } });
      await assertExactAnswers(client);
      const { peer } = await server.waitForEvent('accepted', { client });
      assert.equal(peer.host, '127.0.0.1');
    });

    void it('hands the bytes after the header in the same packet to the session, and reads a header split byte by byte', async () => {
      const source: ProxyAddress = { family: 'IPv4', host: '192.0.2.50', port: 40100 };
      const header = encodeProxyHeader(2, { command: 'proxy', source, destination: DESTINATION_V4 });
      const together = await server.connect({ proxy: { header: Buffer.concat([header, encodeClientRequest('s')]), source } });
      await together.awaitAnswers(1);
      assert.equal(together.answers[0]?.count, 0, 'the request that came with the header was answered');

      const splitSource: ProxyAddress = { ...source, port: 40101 };
      const split = await server.connect();
      for (const byte of encodeProxyHeader(1, { command: 'proxy', source: splitSource, destination: DESTINATION_V4 })) await split.write(Buffer.of(byte));
      const accepted = await server.waitForEvent('accepted', { where: (event) => event.peer.port === 40101 });
      assert.equal(accepted.peer.host, '192.0.2.50');
      await split.nextFrame(MessageType.symbols);
    });

    void it('accepts a v2 LOCAL health check without making it a client, and counts it', async () => {
      const before = server.server.stats();
      const check = await send(server.port, encodeProxyHeader(2, { command: 'local' }));
      await check.closed;
      const event = await server.waitForEvent('health-check');
      assert.equal(event.peer.host, '127.0.0.1', 'the load balancer itself');
      const after = server.server.stats();
      assert.equal(after.healthChecks, before.healthChecks + 1);
      assert.equal(after.accepted, before.accepted, 'not a client');
      assert.equal(check.received(), 0, 'sent nothing');
    });

    void it('closes a connection with a bad header, or none in time, with ERR_PROXY_HEADER, and nobody else notices', async () => {
      const bystander = await server.connect(from(2, '192.0.2.99', 40200));
      await bystander.nextFrame(MessageType.symbols);
      const since = server.events.length;
      const before = server.server.stats();

      const garbage = await send(server.port, Buffer.from('GET / HTTP/1.1\r\n\r\n'));
      const direct = await send(server.port, encodeClientRequest('s'));
      const silent = await send(server.port, undefined);
      // Half a header, then the end of the stream.
      const truncated = await send(server.port, Buffer.from('PROXY TCP4 192.0.2.1 '));
      truncated.end();
      await Promise.all([garbage.closed, direct.closed, silent.closed, truncated.closed]);
      const rejected = server.events.slice(since).filter((event) => event.type === 'rejected');
      const messages = rejected.map((event) => event.error.message).sort();
      assert.deepEqual(messages, [
        'PROXY v1 line truncated: 21 bytes and no CRLF before the connection closed',
        'no PROXY protocol header received within 0.3 s',
        'not a PROXY protocol header: it starts with 0x00',
        'not a PROXY protocol header: it starts with 0x47',
      ]);
      for (const event of rejected) assert.equal(event.error.code, ErrorCode.proxyHeader);
      assert.equal(server.server.stats().errors[ErrorCode.proxyHeader], (before.errors[ErrorCode.proxyHeader] ?? 0) + 4);
      assert.equal(server.server.stats().accepted, before.accepted);
      for (const refused of [garbage, direct, silent, truncated]) assert.equal(refused.received(), 0, 'no frame for a peer that is not a client yet');
      await assertExactAnswers(bystander);
    });
  });

  void it('refuses a header from a source outside --proxy-trusted', async () => {
    const server = await proxyServer({ proxy: { trusted: [range('10.0.0.0/8'), range('127.0.0.2')] } });
    try {
      const refused = await send(server.port, encodeProxyHeader(1, { command: 'proxy', source: { family: 'IPv4', host: '192.0.2.1', port: 1 }, destination: DESTINATION_V4 }));
      await refused.closed;
      const event = await server.waitForEvent('rejected');
      assert.equal(event.error.code, ErrorCode.proxyHeader);
      assert.equal(event.error.message, '127.0.0.1 is not a trusted proxy (--proxy-trusted 10.0.0.0/8,127.0.0.2)');
      assert.equal(event.peer.host, '127.0.0.1', 'the address that was refused');
      assert.equal(server.server.stats().accepted, 0);
    } finally {
      await server.stop();
    }
  });

  void it('limits clients per address by the address the header carries', async () => {
    const server = await proxyServer({ maxClientsPerAddress: 2 });
    try {
      const first = await server.connect(from(2, '192.0.2.1', 41001));
      await server.connect(from(1, '192.0.2.1', 41002));
      const other = await server.connect(from(2, '192.0.2.2', 41003));
      const third = await server.connect(from(2, '192.0.2.1', 41004));
      const error = await third.nextFrame(MessageType.error);
      assert.equal(error.content.toString('latin1'), 'ERR_SERVER_FULL: too many clients from 192.0.2.1 (2)');
      await third.waitClosed();
      await assertExactAnswers(other);

      first.end();
      await server.waitForEvent('closed', { client: first });
      const again = await server.connect(from(2, '192.0.2.1', 41005));
      await again.nextFrame(MessageType.symbols);
      assert.equal(server.server.clients, 3);
    } finally {
      await server.stop();
    }
  });

  void describe('then TLS', { skip: NO_OPENSSL }, () => {
    let certs: TestCertificates;
    before(async () => {
      certs = await makeCertificates();
    });
    after(() => certs.remove());

    void it('reads the header first, then does the handshake, the ClientHello in the same packet or not', async () => {
      const server = await proxyServer({ frameTimeoutMs: 5_000, tls: { files: certs.server, clientAuth: 'none' } });
      try {
        const tls = { ca: certs.read(certs.ca.cert) };
        // RawClient writes the header and then starts TLS at once: both leave in one packet or two, as they come.
        const clients = await Promise.all([41, 42, 43].map((n) => server.connect({ ...from(n % 2 === 0 ? 2 : 1, `192.0.2.${n}`, 42000 + n), tls })));
        for (const client of clients) assert.equal((client.socket as TLSSocket).authorized, true);
        await Promise.all(clients.map(assertExactAnswers));
        const accepted = await server.waitForEvent('accepted', { client: clients[0] });
        assert.equal(accepted.peer.host, '192.0.2.41');

        // The header in a write of its own, handed to the system before the handshake begins.
        const raw = connect({ host: '127.0.0.1', port: server.port });
        await new Promise((resolve) => raw.once('connect', resolve));
        const source: ProxyAddress = { family: 'IPv4', host: '192.0.2.44', port: 42044 };
        await new Promise((resolve) => raw.write(encodeProxyHeader(2, { command: 'proxy', source, destination: DESTINATION_V4 }), resolve));
        const apart = connectTls({ socket: raw, ...tls });
        apart.on('error', () => undefined);
        await withTimeout(new Promise((resolve) => apart.once('secureConnect', resolve)), 3_000, 'the handshake after a header of its own');
        apart.write(encodeClientRequest('s'));
        const answered = await server.waitForEvent('statistics', { where: (event) => event.peer.host === '192.0.2.44' });
        assert.equal(answered.peer.port, 42044);
        apart.destroy();

        // TLS without the header first: the ClientHello is not a PROXY header.
        const since = server.events.length;
        const bare = await send(server.port, Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05]));
        await bare.closed;
        const rejected = await server.waitForEvent('rejected', { since });
        assert.equal(rejected.error.message, 'not a PROXY protocol header: it starts with 0x16');
      } finally {
        await server.stop();
      }
    });
  });
});
