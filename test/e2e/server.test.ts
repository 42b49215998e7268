/**
 * The server program seen from its own output: the original's lines in user mode, statistics
 * that agree with what it sent, and a clean stop on SIGINT and SIGTERM with clients connected,
 * and from the moment it says it listens.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, describe, test } from 'node:test';
import { GOT_RESPONSE, killAll, spawnClient, spawnListeningServer, stopAtListening, waitForLines, type ChildProc } from '../support/process.js';

after(async () => {
  await killAll();
});

const SLEEPY = /^sleepy for a \d+(?:\.\d+)? seconds?$/;

describe('server output in user mode', { concurrency: true }, () => {
  test("the original's lines: accepted, sleepy/sending, received request, statistics, Peer closed, closing", async () => {
    const server = await spawnListeningServer();
    const client = spawnClient(['127.0.0.1', String(server.port)]);
    const [, peerPort] = await server.proc.waitForLine(/^accepted connection from \('127\.0\.0\.1', (\d+)\)$/);
    const peer = `\\('127\\.0\\.0\\.1', ${peerPort}\\)`;
    await waitForLines(server.proc, new RegExp(`^sending b'[A-Za-z0-9]+' to ${peer}$`), 3);
    client.write('s');
    await server.proc.waitForLine(new RegExp(`^received request from ${peer}$`));
    const [, reported] = await server.proc.waitForLine(new RegExp(`^sending b'Statistics: (\\d+) symbols was delivered' to ${peer}$`));
    const [, clientReported] = await client.waitForLine(/^got response: b'Statistics: (\d+) symbols was delivered'$/);
    assert.equal(clientReported, reported, 'the client shows the figure the server sent');

    client.write('q');
    assert.deepEqual(await client.waitForExit(), { code: 0, signal: null }, client.describe());
    await server.proc.waitForLine(/^error: Peer closed$/);
    await server.proc.waitForLine(new RegExp(`^closing connection to ${peer}$`));

    // Every chunk is announced by its sleepy line, and the statistics count the chunks sent before.
    const lines = server.proc.out.lines;
    let sent = 0;
    let statistics: number | undefined;
    lines.forEach((line, i) => {
      const chunk = /^sending b'([A-Za-z0-9]+)' to /.exec(line)?.[1];
      if (chunk !== undefined) {
        assert.match(lines[i - 1] ?? '', SLEEPY, `line ${i} of\n${lines.join('\n')}`);
        if (statistics === undefined) sent += chunk.length;
      }
      const answer = /^sending b'Statistics: (\d+) symbols was delivered' to /.exec(line)?.[1];
      if (answer !== undefined) statistics ??= Number(answer);
    });
    assert.equal(statistics, sent, server.proc.describe());
    assert.ok(sent > 0);
    server.proc.kill('SIGTERM');
    assert.deepEqual(await server.proc.waitForExit(), { code: 0, signal: null }, server.proc.describe());
  });

  test("whole seconds print as the original does: 'sleepy for a 1 second'", async () => {
    const server = await spawnListeningServer('127.0.0.1', 'user', ['--interval', '1-1', '--chars', '3-3']);
    const client = spawnClient(['127.0.0.1', String(server.port)]);
    await server.proc.waitForLine(/^sleepy for a 1 second$/);
    await server.proc.waitForLine(/^sending b'[A-Za-z0-9]{3}' to \('127\.0\.0\.1', \d+\)$/);
    await client.waitForLine(/^sleepy for a 1 second$/);
    await client.waitForLine(/^got response: b'[A-Za-z0-9]{3}'$/);
    server.proc.kill('SIGTERM');
    assert.deepEqual(await client.waitForExit(), { code: 0, signal: null }, client.describe());
    assert.deepEqual(await server.proc.waitForExit(), { code: 0, signal: null }, server.proc.describe());
  });
});

describe('server stop with clients connected', { concurrency: true }, () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    test(`${signal}: every client is told and exits 0, the server exits 0`, async () => {
      const server = await spawnListeningServer();
      const clients: ChildProc[] = [spawnClient(['127.0.0.1', String(server.port)]), spawnClient(['127.0.0.1', String(server.port)])];
      await waitForLines(server.proc, /^accepted connection from /, 2);
      for (const client of clients) await client.waitForLine(GOT_RESPONSE);

      server.proc.kill(signal);
      if (signal === 'SIGINT') await server.proc.waitForLine(/^Caught keyboard interrupt, exiting$/);
      await server.proc.waitForLine(new RegExp(`^shutting down: .*${signal}.*\\(2 clients connected\\)$`));
      for (const client of clients) {
        await client.waitForLine(new RegExp(`^server shutting down \\(${signal}\\)$`));
        assert.deepEqual(await client.waitForExit(), { code: 0, signal: null }, client.describe());
        assert.equal(client.err.text, '', client.describe());
      }
      assert.deepEqual(await server.proc.waitForExit(), { code: 0, signal: null }, server.proc.describe());
      assert.equal(server.proc.err.text, '', server.proc.describe());
      if (signal === 'SIGTERM') assert.ok(!server.proc.out.lines.includes('Caught keyboard interrupt, exiting'), 'that line is for Ctrl-C only');
    });
  }

  // `listening on` is written on another thread than the one that handles the signals: a script
  // that signals the moment it reads the line must still get a clean stop, not the default action
  // of a signal nobody handles yet (an exit by SIGTERM, no `shutting down`). See cluster.test.ts
  // for --workers.
  test("SIGTERM the moment 'listening on' is read is a clean stop", async () => {
    for (let round = 0; round < 3; round++) await stopAtListening();
  });

  test('a second signal while shutting down exits at once', async () => {
    // A peer that never closes its side keeps the shutdown waiting (for the close grace period).
    const server = await spawnListeningServer('127.0.0.1', 'user', ['--interval', '0.05-0.15', '--shutdown-timeout', '30']);
    const silent = connect({ host: '127.0.0.1', port: server.port, allowHalfOpen: true });
    silent.on('error', () => undefined);
    await once(silent, 'connect');
    await server.proc.waitForLine(/^accepted connection from /);

    server.proc.kill('SIGTERM');
    await server.proc.waitForLine(/^shutting down: /);
    server.proc.kill('SIGTERM');
    assert.deepEqual(await server.proc.waitForExit(), { code: 143, signal: null }, server.proc.describe());
    assert.ok(!server.proc.out.lines.includes('stopped'), server.proc.describe());
    silent.destroy();
  });
});
