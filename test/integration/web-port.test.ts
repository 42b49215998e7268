import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/protocol/errors.js';
import { MessageType } from '../../src/protocol/frame.js';
import { encodeFrame } from '../../src/protocol/encoder.js';
import { encodeClientRequest } from '../../src/protocol/messages.js';
import { RawClient } from '../support/net.js';
import { httpGet, RawHttp, WebTestServer, type WsClient } from '../support/web.js';

const FAST = { interval: { min: 0.01, max: 0.03 }, chars: { min: 1, max: 9 } } as const;

/** Every answer equals what that client received since the previous one: the protocol's invariant. */
function assertExact(client: WsClient | RawClient, label: string): void {
  const answers = 'form' in client ? client.answers : client.answers.map((answer) => ({ count: answer.count, receivedSinceLast: answer.receivedSinceLast }));
  assert.ok(answers.length > 0, `${label}: no answers`);
  for (const [i, answer] of answers.entries()) {
    assert.equal(answer.count, answer.receivedSinceLast, `${label}, answer ${i + 1}: the server says ${answer.count}, the client received ${answer.receivedSinceLast}`);
  }
}

/** A bystander that must not notice another connection's trouble: it still gets chunks and exact answers. */
async function assertUndisturbed(bystander: WsClient): Promise<void> {
  assert.ok(bystander.isOpen, 'the bystander is still connected');
  await bystander.chunks(2);
  const answer = await bystander.statistics();
  assert.equal(answer.count, answer.receivedSinceLast);
  assert.deepEqual(bystander.malformed, []);
}

void describe('the web port beside TCP', () => {
  let server: WebTestServer;
  before(async () => {
    server = await WebTestServer.start(FAST);
  });
  after(() => server.stop());

  void it('gives many WebSocket clients (binary and text) and TCP clients on one server exact statistics, one frame per message', async () => {
    const binary = await Promise.all(Array.from({ length: 30 }, () => server.connect('/ws')));
    const text = await Promise.all(Array.from({ length: 10 }, () => server.connect('/ws/text')));
    const tcp = await Promise.all(Array.from({ length: 10 }, () => RawClient.connect(server.port, { retainSymbols: false })));
    try {
      await server.waitForEvent('accepted', (event) => event.clients === 50);
      for (let round = 0; round < 3; round++) {
        await Promise.all([...binary, ...text].map((client) => client.chunks(2)));
        await Promise.all([...binary, ...text].map((client) => client.statistics()));
        await Promise.all(tcp.map((client) => client.statistics()));
      }
      for (const [i, client] of [...binary, ...text].entries()) {
        assertExact(client, `WebSocket client ${i + 1} (${client.form})`);
        assert.deepEqual(client.malformed, [], 'every message is one whole frame (or one line of text)');
      }
      for (const [i, client] of tcp.entries()) assertExact(client, `TCP client ${i + 1}`);
      const statistics = server.events.filter((event) => event.type === 'statistics');
      assert.equal(statistics.length, 150);
    } finally {
      for (const client of [...binary, ...text]) client.ws.close();
      for (const client of tcp) client.destroy();
    }
  });

  void it('/ws carries the same frames as TCP: the header every frame has, chunks from the alphabet', async () => {
    const client = await server.connect('/ws');
    await client.chunks(3);
    for (const message of client.messages) {
      assert.equal(message.header?.['content-type'], 'binary/custom-server-binary-type');
      assert.equal(message.header?.['message-type'], MessageType.symbols);
      assert.match(message.text, /^[A-Za-z0-9]{1,9}$/);
    }
    client.ws.close();
  });

  void it('/ws/text: chunks are their symbols, `s` is answered in words, any other text is an unknown request and the connection stays', async () => {
    const client = await server.connect('/ws/text');
    await client.chunks(3);
    for (const message of client.messages) assert.match(message.text, /^[A-Za-z0-9]{1,9}$/);
    const first = await client.statistics();
    assert.equal(first.count, first.receivedSinceLast);
    const before = client.messages.length;
    client.ws.send('hello <b>');
    const error = await client.message(MessageType.error, before);
    assert.match(error.text, /^error: ERR_UNKNOWN_REQUEST: /);
    assert.ok(client.isOpen, 'an unknown request leaves the connection open');
    const second = await client.statistics();
    assert.equal(second.count, second.receivedSinceLast);
    client.ws.close();
  });

  void it('a client that quits (close 1000) is reported as the original reports a peer that left', async () => {
    const client = await server.connect('/ws');
    await client.chunks(1);
    client.ws.close(1000);
    const closed = await server.waitForEvent('closed', (event) => event.peer.port === client.localPort);
    assert.ok(closed.summary.chunks >= 1);
    assert.ok(server.eventsAbout(client.localPort).some((event) => event.type === 'peer-closed'));
  });
});

void describe('bad input on the web port costs only its own connection', () => {
  let server: WebTestServer;
  let bystander: WsClient;
  let tcpBystander: RawClient;
  before(async () => {
    server = await WebTestServer.start({ ...FAST, maxRequestLength: 64, maxHeaderLength: 256 }, { headersTimeoutMs: 1_000 });
    bystander = await server.connect('/ws');
    tcpBystander = await RawClient.connect(server.port, { retainSymbols: false });
  });
  after(async () => {
    tcpBystander.destroy();
    await server.stop();
  });

  /** Sends `message` and expects the named error frame, then the close code. */
  async function expectRefusal(message: Buffer | string, code: string, closeCode: number, path = '/ws'): Promise<WsClient> {
    const client = await server.connect(path);
    client.ws.send(message);
    const { code: closedWith, reason } = await client.waitClosed();
    assert.equal(closedWith, closeCode, `close code for ${code}`);
    assert.ok(reason.startsWith(code), `the close reason names the code: '${reason}'`);
    const error = client.messages.find((m) => m.type === MessageType.error);
    assert.ok(error !== undefined, 'an error message came before the close');
    assert.ok(error.text.startsWith(path === '/ws' ? `${code}: ` : `error: ${code}: `), error.text);
    await server.waitForEvent('protocol-error', (event) => event.peer.port === client.localPort && event.error.code === code);
    await assertUndisturbed(bystander);
    return client;
  }

  void it('a text message on /ws: close 1003', async () => {
    await expectRefusal('s', ErrorCode.messageType, 1003);
  });

  void it('a binary message on /ws/text: close 1003', async () => {
    await expectRefusal(Buffer.from('s'), ErrorCode.messageType, 1003, '/ws/text');
  });

  void it('a message with a request and more: an error, not an answer', async () => {
    const client = await expectRefusal(Buffer.concat([encodeClientRequest('s'), encodeClientRequest('s')]), ErrorCode.messageFraming, 1008);
    assert.equal(client.answers.length, 0, 'neither request was answered');
  });

  void it('a message with a request and one byte more', async () => {
    await expectRefusal(Buffer.concat([encodeClientRequest('s'), Buffer.from('x')]), ErrorCode.messageFraming, 1008);
  });

  void it('a message that ends inside its frame', async () => {
    const request = encodeClientRequest('s');
    await expectRefusal(request.subarray(0, request.length - 1), ErrorCode.messageFraming, 1008);
  });

  void it('a message too short for a frame at all', async () => {
    await expectRefusal(Buffer.from([0]), ErrorCode.messageFraming, 1008);
  });

  void it('an empty message', async () => {
    await expectRefusal(Buffer.alloc(0), ErrorCode.messageFraming, 1008);
  });

  void it('a header that is not JSON', async () => {
    const bad = Buffer.concat([Buffer.from([0, 5]), Buffer.from('{nope')]);
    await expectRefusal(bad, ErrorCode.headerJson, 1008);
  });

  void it('content over --max-request: close 1009', async () => {
    await expectRefusal(encodeClientRequest('s'.repeat(65)), ErrorCode.contentTooLong, 1009);
  });

  void it('a header over --max-header: close 1009', async () => {
    const header = Buffer.alloc(300, 0x20);
    const prefix = Buffer.alloc(2);
    prefix.writeUInt16BE(header.length);
    // 2 + 300 bytes: within the message limit (2 + 256 + 64), so the header check is the one that speaks.
    await expectRefusal(Buffer.concat([prefix, header]), ErrorCode.headerTooLong, 1009);
  });

  void it('a message over the WebSocket limit: closed by the WebSocket itself with 1009, reported with the code', async () => {
    const client = await server.connect('/ws');
    client.ws.send(Buffer.alloc(2 + 256 + 64 + 1));
    const { code } = await client.waitClosed();
    assert.equal(code, 1009);
    const error = await server.waitForEvent('protocol-error', (event) => event.peer.port === client.localPort);
    assert.equal(error.error.code, ErrorCode.contentTooLong);
    await assertUndisturbed(bystander);
  });

  void it('a text message over the limit on /ws/text: 1009 too', async () => {
    const client = await server.connect('/ws/text');
    client.ws.send('s'.repeat(65));
    assert.equal((await client.waitClosed()).code, 1009);
    await assertUndisturbed(bystander);
  });

  void it('a bad upgrade (no key, wrong version) gets HTTP 400 and a reason', async () => {
    const raw = await RawHttp.connect(server.webPort);
    raw.socket.write('GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n');
    await raw.waitClosed();
    assert.equal(raw.status, 400);
    assert.match(raw.received, /Sec-WebSocket-Key/);
    await assertUndisturbed(bystander);
  });

  void it('an upgrade to a path that is no endpoint gets 404 naming the endpoints', async () => {
    const client = server.attempt('/chat');
    await client.waitClosed();
    assert.equal(client.refusedWith?.status, 404);
    assert.match(client.refusedWith?.body ?? '', /\/ws.*\/ws\/text/);
  });

  void it('a page from a foreign origin is refused with 403 naming --web-origin; no Origin (a tool) and the page\'s own are let in', async () => {
    const foreign = server.attempt('/ws', { origin: 'https://evil.example' });
    await foreign.waitClosed();
    assert.equal(foreign.refusedWith?.status, 403);
    assert.match(foreign.refusedWith?.body ?? '', /--web-origin https:\/\/evil\.example/);
    const own = await server.connect('/ws', { origin: `http://127.0.0.1:${server.webPort}` });
    const tool = await server.connect('/ws');
    await own.chunks(1);
    await tool.chunks(1);
    own.ws.close();
    tool.ws.close();
    await assertUndisturbed(bystander);
  });

  void it('slowloris: headers that do not arrive in time are answered 408 and the connection closed', async () => {
    const raw = await RawHttp.connect(server.webPort);
    const started = Date.now();
    raw.socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    await raw.waitClosed(5_000);
    const tookMs = Date.now() - started;
    assert.equal(raw.status, 408);
    assert.ok(tookMs >= 900 && tookMs < 4_000, `closed after ${tookMs} ms, the timeout is 1000 ms (checked every second)`);
    await assertUndisturbed(bystander);
  });

  void it('TCP clients never noticed', async () => {
    const answer = await tcpBystander.statistics();
    assert.equal(answer.count, answer.receivedSinceLast);
  });
});

void describe('the web port over a whole server', () => {
  void it('a slow WebSocket reader is cut like a slow TCP reader (ERR_SLOW_CONSUMER, close 1008); others go on', async () => {
    const server = await WebTestServer.start({ interval: { min: 0, max: 0 }, chars: { min: 4096, max: 4096 }, slowClientTimeoutMs: 1_000 });
    try {
      const slow = await server.connect('/ws');
      // Reads nothing from now on: the server's buffer for it fills, then the timeout runs.
      slow.ws.pause();
      const bystander = await server.connect('/ws');
      const blocked = await server.waitForEvent('blocked', (event) => event.peer.port === slow.localPort, 5_000);
      assert.ok(blocked.queuedBytes > 0);
      const failed = await server.waitForEvent('protocol-error', (event) => event.peer.port === slow.localPort, 5_000);
      assert.equal(failed.error.code, ErrorCode.slowConsumer);
      await server.waitForEvent('closed', (event) => event.peer.port === slow.localPort, 5_000);
      // What was queued for it stayed bounded while it was blocked.
      assert.ok(blocked.queuedBytes < 1024 * 1024, `${blocked.queuedBytes} bytes queued when it blocked`);
      const answer = await bystander.statistics(5_000);
      assert.equal(answer.count, answer.receivedSinceLast);
    } finally {
      await server.stop();
    }
  });

  void it('WebSocket clients count against --max-clients: one over gets ERR_SERVER_FULL and close 1013, TCP too', async () => {
    const server = await WebTestServer.start({ ...FAST, maxClients: 2 });
    try {
      const ws = await server.connect('/ws');
      const tcp = await RawClient.connect(server.port);
      const refused = await server.connect('/ws/text');
      const { code, reason } = await refused.waitClosed();
      assert.equal(code, 1013);
      assert.match(reason, /^ERR_SERVER_FULL/);
      assert.match(refused.messages[0]?.text ?? '', /^error: ERR_SERVER_FULL: /);
      const refusedTcp = await RawClient.connect(server.port);
      const frame = await refusedTcp.nextFrame(MessageType.error);
      assert.match(frame.content.toString('latin1'), /^ERR_SERVER_FULL/);
      assert.equal(server.server.clients, 2);
      await ws.chunks(1);
      await tcp.nextFrame(MessageType.symbols);
      tcp.destroy();
      refusedTcp.destroy();
    } finally {
      await server.stop();
    }
  });

  void it('a shutdown reaches every WebSocket client: its reason, then close 1001', async () => {
    const server = await WebTestServer.start(FAST);
    const binary = await server.connect('/ws');
    const text = await server.connect('/ws/text');
    await binary.chunks(1);
    await server.server.close({ reason: 'server shutting down (SIGTERM)' });
    const [b, t] = await Promise.all([binary.waitClosed(), text.waitClosed()]);
    assert.deepEqual(b, { code: 1001, reason: 'server shutting down (SIGTERM)' });
    assert.equal(t.code, 1001);
    assert.equal(binary.messages.at(-1)?.type, MessageType.shutdown);
    assert.equal(binary.messages.at(-1)?.text, 'server shutting down (SIGTERM)');
    assert.equal(text.messages.at(-1)?.text, 'shutdown: server shutting down (SIGTERM)');
  });

  void it('a peer that stops answering pings is found and closed; one that answers stays', async () => {
    const server = await WebTestServer.start({ interval: { min: 5, max: 5 } }, { pingIntervalMs: 200 });
    try {
      const dead = await server.connect('/ws', { autoPong: false });
      const alive = await server.connect('/ws');
      const error = await server.waitForEvent('connection-error', (event) => event.peer.port === dead.localPort, 3_000);
      assert.equal(error.error.code, 'ETIMEDOUT');
      assert.match(error.error.message, /ping/);
      await dead.waitClosed();
      await server.waitForEvent('closed', (event) => event.peer.port === dead.localPort);
      assert.ok(alive.isOpen, 'a peer that answers pings stays');
      assert.equal(server.server.clients, 1);
    } finally {
      await server.stop();
    }
  });

  void it('a request frame without a key the original requires: ERR_HEADER_MISSING_KEY, close 1008', async () => {
    const server = await WebTestServer.start(FAST);
    try {
      const client = await server.connect('/ws');
      client.ws.send(encodeFrame({ byteorder: 'little', 'content-type': 'binary/custom-client-binary-type', 'content-length': 1 }, Buffer.from('s')));
      const closed = await client.waitClosed();
      assert.equal(closed.code, 1008);
      assert.equal(closed.reason, 'ERR_HEADER_MISSING_KEY: Missing required header "content-encoding".');
    } finally {
      await server.stop();
    }
  });
});

void describe('the page', () => {
  let server: WebTestServer;
  before(async () => {
    server = await WebTestServer.start(FAST);
  });
  after(() => server.stop());

  void it('is served with a policy that forbids inline script and foreign origins', async () => {
    const page = await httpGet(server.webPort, '/');
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(page.body, /<script type="module" src="\/client.js"><\/script>/);
    assert.doesNotMatch(page.body, /<script>/, 'no inline script');
    const policy = String(page.headers['content-security-policy']);
    assert.match(policy, /default-src 'self'/);
    assert.match(policy, /script-src 'self';/);
    assert.doesNotMatch(policy, /unsafe-inline|unsafe-eval|\*/);
    assert.match(policy, new RegExp(`connect-src 'self' ws://127\\.0\\.0\\.1:${server.webPort} wss://127\\.0\\.0\\.1:${server.webPort};`));
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
  });

  void it('serves its files from the package and nothing else', async () => {
    for (const [path, type] of [['/client.js', /^text\/javascript/], ['/style.css', /^text\/css/], ['/favicon.svg', /^image\/svg\+xml/]] as const) {
      const file = await httpGet(server.webPort, path);
      assert.equal(file.status, 200, path);
      assert.match(String(file.headers['content-type']), type);
    }
    assert.equal((await httpGet(server.webPort, '/tsconfig.json')).status, 404);
    assert.equal((await httpGet(server.webPort, '/../package.json')).status, 404);
    assert.equal((await httpGet(server.webPort, '/', 'POST')).status, 405);
    const head = await httpGet(server.webPort, '/', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    const ws = await httpGet(server.webPort, '/ws');
    assert.equal(ws.status, 426);
    assert.match(ws.body, /WebSocket/);
  });

  void it('uses the page\'s Host in the policy only when it is a plain host', async () => {
    const page = await httpGet(server.webPort, '/', 'GET', { Host: 'evil; script-src *' });
    assert.doesNotMatch(String(page.headers['content-security-policy']), /evil/);
  });
});
