/**
 * The web port takes the accept stages of the clients' port: with --tls-cert the page is served
 * over HTTPS and the WebSockets are WSS, and with --proxy-protocol a load balancer's PROXY header
 * gives the WebSocket client's real address. The built server, a ws client, real certificates.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { get } from 'node:https';
import { after, before, describe, test } from 'node:test';
import { encodeProxyHeader } from '../../src/protocol/proxy-header.js';
import { makeCertificates, NO_OPENSSL, type TestCertificates } from '../support/certs.js';
import { killAll, spawnServer } from '../support/process.js';
import { WsClient } from '../support/web.js';

const WEB = /"event":"web".*"port":(\d+)/;
let certs: TestCertificates;

before(async () => {
  if (NO_OPENSSL === false) certs = await makeCertificates();
});

after(async () => {
  await killAll();
  certs?.remove();
});

describe('the web port behind TLS and the PROXY protocol', { skip: NO_OPENSSL, concurrency: true }, () => {
  test('with --tls-cert: the page over HTTPS, WSS clients streaming with exact statistics', async () => {
    const server = spawnServer(['127.0.0.1', '0', 'json', '--web', '0', '--interval', '0.05-0.1', '--tls-cert', certs.server.cert, '--tls-key', certs.server.key]);
    const line = await server.waitForLine(WEB);
    assert.match(line.input ?? '', /"tls":true/);
    const port = Number(line[1]);
    const ca = certs.read(certs.ca.cert);
    const status = await new Promise<number>((resolve, reject) => {
      get({ host: '127.0.0.1', port, path: '/', ca }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      }).on('error', reject);
    });
    assert.equal(status, 200);

    const client = new WsClient(`wss://127.0.0.1:${port}/ws`, 'binary', { ca });
    await client.opened;
    await client.chunks(2);
    const answer = await client.statistics();
    assert.equal(answer.count, answer.receivedSinceLast);
    // A plain WebSocket to the TLS port is refused, and costs only itself.
    const plain = new WsClient(`ws://127.0.0.1:${port}/ws`, 'binary', {});
    await assert.rejects(plain.opened);
    await client.chunks(1);
  });

  test('with --proxy-protocol: the WebSocket client is known by the address its PROXY header carries', async () => {
    const server = spawnServer(['127.0.0.1', '0', 'json', '--web', '0', '--interval', '0.05-0.1', '--proxy-protocol']);
    const port = Number((await server.waitForLine(WEB))[1]);
    const header = encodeProxyHeader(2, {
      command: 'proxy',
      source: { family: 'IPv4', host: '198.51.100.7', port: 40_123 },
      destination: { family: 'IPv4', host: '127.0.0.1', port },
    });
    const client = new WsClient(`ws://127.0.0.1:${port}/ws`, 'binary', {
      createConnection: () => {
        const socket = connect({ host: '127.0.0.1', port });
        socket.write(header);
        return socket;
      },
    });
    await client.opened;
    await client.chunks(1);
    const accepted = await server.waitForLine(/"event":"accepted".*"host":"198\.51\.100\.7","port":40123/, { fromStart: true });
    assert.ok(accepted);
    const answer = await client.statistics();
    assert.equal(answer.count, answer.receivedSinceLast);
  });
});
