/**
 * The built server with `--web`: its line, the page and the endpoints served by the one process
 * or by every worker of `--workers`, a shutdown reaching WebSocket clients, the options' errors,
 * and a WebSocket tool nobody here wrote (wscat, from the registry) on `/ws/text`.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { MessageType } from '../../src/protocol/frame.js';
import { ChildProc, killAll, spawnServer } from '../support/process.js';
import { httpGet, WsClient } from '../support/web.js';

after(async () => {
  await killAll();
});

const WEB = /^web client on http:\/\/127\.0\.0\.1:(\d+)\/$/;
const WSCAT = fileURLToPath(new URL('../../../node_modules/wscat/bin/wscat', import.meta.url));

async function open(url: string, form: 'binary' | 'text' = 'binary'): Promise<WsClient> {
  const client = new WsClient(url, form, {});
  await client.opened;
  return client;
}

describe('--web', { concurrency: true }, () => {
  test('serves the page and both endpoints beside the TCP port; SIGTERM sends WebSocket clients the shutdown and 1001', async () => {
    const server = spawnServer(['127.0.0.1', '0', 'user', '--web', '0', '--interval', '0.05-0.1']);
    await server.waitForLine(/^listening on \('127\.0\.0\.1', \d+\)$/);
    const port = Number((await server.waitForLine(WEB))[1]);
    const page = await httpGet(port, '/');
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);

    const client = await open(`ws://127.0.0.1:${port}/ws`);
    await client.chunks(2);
    const answer = await client.statistics();
    assert.equal(answer.count, answer.receivedSinceLast);
    await server.waitForLine(/^sending b'Statistics: \d+ symbols was delivered' to \('127\.0\.0\.1', \d+\)$/, { fromStart: true });

    server.kill('SIGTERM');
    const closed = await client.waitClosed();
    assert.deepEqual(closed, { code: 1001, reason: 'server shutting down (SIGTERM)' });
    assert.equal(client.messages.at(-1)?.type, MessageType.shutdown);
    assert.deepEqual(await server.waitForExit(), { code: 0, signal: null });
  });

  test('with --workers 2 on port 0, both workers serve the one web port, announced once', async () => {
    const server = spawnServer(['127.0.0.1', '0', 'json', '--workers', '2', '--web', '0', '--interval', '0.2-0.3']);
    const port = Number((await server.waitForLine(/"event":"web".*"port":(\d+)/))[1]);
    const clients: WsClient[] = [];
    for (let i = 0; i < 4; i++) {
      const client = await open(`ws://127.0.0.1:${port}/ws`);
      await client.chunks(1);
      clients.push(client);
    }
    await Promise.all(
      clients.map(async (client) => {
        const answer = await client.statistics();
        assert.equal(answer.count, answer.receivedSinceLast);
      }),
    );
    // Each worker numbers its own connections: with both serving, the numbers repeat.
    const ids = server.out.lines.filter((line) => line.includes('"event":"accepted"')).map((line) => (JSON.parse(line) as { peer: { id: number } }).peer.id);
    assert.equal(ids.length, 4, server.describe());
    assert.ok(Math.max(...ids) < 4, `connection numbers ${ids.join(', ')}: one worker took them all`);
    assert.equal(server.out.lines.filter((line) => line.includes('"event":"web"')).length, 1, 'the web port is announced once');
    server.kill('SIGTERM');
    await Promise.all(clients.map((client) => client.waitClosed()));
    assert.deepEqual(await server.waitForExit(), { code: 0, signal: null });
  });

  test('bad --web and --web-origin values are usage errors', async () => {
    for (const args of [['--web', 'localhost'], ['--web-origin', 'https://example.org'], ['--web', '0', '--web-origin', 'https://example.org/app']]) {
      const server = spawnServer(['127.0.0.1', '0', ...args]);
      const exit = await server.waitForExit();
      assert.equal(exit.code, 2, server.describe());
      assert.match(server.err.lines[0] ?? '', /--web/);
    }
  });

  test('wscat on /ws/text: `s` gets the statistics line, and it counts exactly the symbols wscat showed', async () => {
    const server = spawnServer(['127.0.0.1', '0', 'quiet', '--web', '0', '--interval', '0.05-0.1']);
    const port = Number((await server.waitForLine(WEB))[1]);
    const wscat = new ChildProc('wscat', process.execPath, [WSCAT, '--connect', `ws://127.0.0.1:${port}/ws/text`]);
    // wscat prints each message on a line (after its prompt, `> `, when it shows one).
    const chunk = /^(?:> )*([A-Za-z0-9]+)$/;
    await wscat.waitForLine(chunk);
    await wscat.waitForLine(chunk);
    wscat.write('s\n');
    const [, count] = await wscat.waitForLine(/Statistics: (\d+) symbols was delivered/);
    const answerAt = wscat.out.lines.findIndex((line) => line.includes('Statistics: '));
    const shown = wscat.out.lines
      .slice(0, answerAt)
      .map((line) => chunk.exec(line)?.[1] ?? '')
      .reduce((sum, symbols) => sum + symbols.length, 0);
    assert.ok(shown > 0, wscat.describe());
    assert.equal(Number(count), shown, `the server counted ${count}, wscat showed ${shown} symbols`);
    wscat.kill('SIGTERM');
    await wscat.waitForExit();
    server.kill('SIGTERM');
    assert.equal((await server.waitForExit()).code, 0);
  });
});
