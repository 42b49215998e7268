/**
 * The output modes (json, quiet, debug) of the built programs, and both programs over IPv6.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { canBind, killAll, spawnClient, spawnListeningServer, waitForLines, type ChildProc } from '../support/process.js';

after(async () => {
  await killAll();
});

/** Every line parses as a JSON object with a string `event`; returns the events in order. */
function jsonEvents(proc: ChildProc): { event: string; [key: string]: unknown }[] {
  return proc.out.lines.map((line, i) => {
    let value: unknown;
    assert.doesNotThrow(() => (value = JSON.parse(line)), `line ${i} is JSON\n${proc.describe()}`);
    assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), `line ${i} is an object\n${proc.describe()}`);
    const event = (value as { event?: unknown }).event;
    assert.equal(typeof event, 'string', `line ${i} has an event\n${proc.describe()}`);
    return value as { event: string };
  });
}

describe('output modes', { concurrency: true }, () => {
  test('json: server and client print only JSON objects with an event field', async () => {
    const server = await spawnListeningServer('127.0.0.1', 'json');
    const client = spawnClient(['127.0.0.1', String(server.port), 'json']);
    await waitForLines(client, /"event":"frame"/, 2);
    client.write('s');
    const { input: statistics = '' } = await client.waitForLine(/"event":"statistics"/);
    assert.equal((JSON.parse(statistics) as { match: unknown }).match, true, client.describe());
    await server.proc.waitForLine(/"event":"statistics"/);
    client.write('q');
    assert.deepEqual(await client.waitForExit(), { code: 0, signal: null }, client.describe());
    await server.proc.waitForLine(/"event":"closed"/);
    server.proc.kill('SIGTERM');
    assert.deepEqual(await server.proc.waitForExit(), { code: 0, signal: null }, server.proc.describe());

    const clientEvents = jsonEvents(client).map((e) => e.event);
    for (const event of ['starting', 'frame', 'request', 'statistics', 'closing']) assert.ok(clientEvents.includes(event), `client ${event}: ${clientEvents.join(' ')}`);
    const serverEvents = jsonEvents(server.proc).map((e) => e.event);
    for (const event of ['listening', 'accepted', 'chunk', 'request', 'statistics', 'peer-closed', 'closed', 'shutdown', 'stopped']) {
      assert.ok(serverEvents.includes(event), `server ${event}: ${serverEvents.join(' ')}`);
    }
  });

  test('quiet client: statistics answers, no chunks', async () => {
    const server = await spawnListeningServer();
    const client = spawnClient(['127.0.0.1', String(server.port), 'quiet']);
    const [, peerPort] = await server.proc.waitForLine(/^accepted connection from \('127\.0\.0\.1', (\d+)\)$/);
    await waitForLines(server.proc, new RegExp(`^sending b'[A-Za-z0-9]+' to \\('127\\.0\\.0\\.1', ${peerPort}\\)$`), 3);
    client.write('s');
    const [, reported] = await client.waitForLine(/^Statistics: (\d+) symbols was delivered$/);
    assert.ok(Number(reported) > 0, client.describe());
    client.write('q');
    assert.deepEqual(await client.waitForExit(), { code: 0, signal: null }, client.describe());
    assert.deepEqual(client.out.lines, [`Statistics: ${reported} symbols was delivered`], `only the statistics\n${client.describe()}`);
    assert.equal(client.err.text, '', client.describe());
  });

  test('debug client: its own count beside the server figure', async () => {
    const server = await spawnListeningServer();
    const client = spawnClient(['127.0.0.1', String(server.port), 'debug']);
    await waitForLines(client, /got response: b'[A-Za-z0-9]+'$/, 3);
    client.write('s');
    const [, reported, counted] = await client.waitForLine(/statistics: server reports (\d+) symbols, client counted (\d+) \(match\)$/);
    assert.equal(reported, counted);
    assert.ok(Number(reported) > 0, client.describe());
    client.write('q');
    assert.deepEqual(await client.waitForExit(), { code: 0, signal: null }, client.describe());
  });
});

describe('IPv6', () => {
  test("server on ::1 port 0 and a client to ::1: peers print as ('::1', PORT, 0, 0)", async (t) => {
    if (!(await canBind('::1'))) {
      t.skip('::1 cannot be bound on this machine');
      return;
    }
    const server = await spawnListeningServer('::1');
    assert.equal(server.label, `('::1', ${server.port})`);
    const client = spawnClient(['::1', String(server.port)]);
    await client.waitForLine(new RegExp(`^starting connection to \\('::1', ${server.port}\\)$`));
    const [, peerPort] = await server.proc.waitForLine(/^accepted connection from \('::1', (\d+), 0, 0\)$/);
    await server.proc.waitForLine(new RegExp(`^sending b'[A-Za-z0-9]+' to \\('::1', ${peerPort}, 0, 0\\)$`));
    await client.waitForLine(/^got response: b'[A-Za-z0-9]+'$/);
    client.write('s');
    await client.waitForLine(new RegExp(`^sending b's' to \\('::1', ${server.port}\\)$`));
    await client.waitForLine(/^got response: b'Statistics: \d+ symbols was delivered'$/);
    client.write('q');
    assert.deepEqual(await client.waitForExit(), { code: 0, signal: null }, client.describe());
    await server.proc.waitForLine(new RegExp(`^closing connection to \\('::1', ${peerPort}, 0, 0\\)$`));
  });
});
