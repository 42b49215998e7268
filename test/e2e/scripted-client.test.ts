/**
 * The client with stdin and stdout not a terminal: letters read from a pipe or a file act like
 * key presses, the end of the input does not end the session, a reader that goes away ends it
 * quietly, and a server that vanishes is reported with exit code 1.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  GOT_RESPONSE,
  STACK_TRACE,
  killAll,
  spawnClient,
  spawnShell,
  spawnListeningServer,
  statisticsChecks,
  waitForLines,
  type ListeningServer,
} from '../support/process.js';

const STATISTICS_ANSWER = /^got response: b'Statistics: (\d+) symbols was delivered'$/;
/** A chunk, not a statistics answer. */
const CHUNK = /^got response: b'[A-Za-z0-9]+'$/;

let server: ListeningServer;

before(async () => {
  server = await spawnListeningServer();
});

after(async () => {
  await killAll();
});

describe('scripted client', { concurrency: true }, () => {
  test("letters piped in act like key presses ('s', newline, 's', then end of input); the session goes on", async () => {
    const client = spawnClient(['127.0.0.1', String(server.port)]);
    await client.waitForLine(/^Press 's' for statistics or 'q' to quit\.$/);
    await waitForLines(client, GOT_RESPONSE, 2);
    // From a script, white space only separates letters: no hint for the newline.
    client.write('s\ns');
    client.endInput();
    await waitForLines(client, new RegExp(`^sending b's' to \\('127\\.0\\.0\\.1', ${server.port}\\)$`), 2);
    await waitForLines(client, STATISTICS_ANSWER, 2);

    // End of stdin stops the keys, not the stream.
    await waitForLines(client, CHUNK, 3);
    assert.ok(client.running, client.describe());

    // The hint on connecting, and at each key press as the original prints it; none for the newline.
    assert.equal(client.out.lines.filter((line) => line.startsWith('Press ')).length, 3, client.describe());
    const checks = statisticsChecks(client.out.lines);
    assert.equal(checks.length, 2, client.describe());
    assert.ok((checks[0]?.chunks ?? 0) >= 2, client.describe());
    for (const check of checks) assert.equal(check.reported, check.counted, client.describe());

    client.kill('SIGTERM');
    await client.waitForLine(/^closing connection to /);
    assert.deepEqual(await client.waitForExit(), { code: 143, signal: null }, client.describe());
    assert.equal(client.err.text, '', client.describe());
  });

  test('q on stdin quits with exit code 0', async () => {
    const client = spawnClient(['127.0.0.1', String(server.port)]);
    await client.waitForLine(GOT_RESPONSE);
    client.write('q');
    await client.waitForLine(/^closing connection to /);
    assert.deepEqual(await client.waitForExit(), { code: 0, signal: null }, client.describe());
  });

  test('stdin from /dev/null: the stream goes on', async () => {
    const client = spawnClient(['127.0.0.1', String(server.port)], 'ignore');
    await client.waitForLine(/^starting connection to /);
    await waitForLines(client, CHUNK, 3);
    assert.ok(client.running, client.describe());
    client.kill('SIGINT');
    assert.deepEqual(await client.waitForExit(), { code: 130, signal: null }, client.describe());
    assert.equal(client.err.text, '', client.describe());
  });

  test('output piped into `head -3` ends the client quietly and promptly, the three lines whole', async () => {
    const started = Date.now();
    const shell = spawnShell(`{ "$NODE" "$CLIENT" 127.0.0.1 ${server.port} </dev/null; echo "client-exit=$?" >&2; } | head -3`, 'client | head -3');
    const exit = await shell.waitForExit();
    assert.deepEqual(exit, { code: 0, signal: null }, shell.describe());
    assert.deepEqual(
      shell.out.lines,
      [`starting connection to ('127.0.0.1', ${server.port})`, "Press 's' for statistics or 'q' to quit.", shell.out.lines[2]],
      shell.describe(),
    );
    assert.match(shell.out.lines[2] ?? '', /^sleepy for a \d+(?:\.\d+)? seconds?$/, shell.describe());
    // Nothing on stderr but our own note: no stack trace, no EPIPE message.
    assert.deepEqual(shell.err.lines, ['client-exit=0'], shell.describe());
    assert.doesNotMatch(shell.err.text, STACK_TRACE);
    assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
  });
});

describe('client when the server goes away', () => {
  test('server killed (no shutdown frame): Peer closed (or reset), closing connection, exit code 1', async () => {
    const own = await spawnListeningServer();
    const client = spawnClient(['127.0.0.1', String(own.port)]);
    await waitForLines(client, GOT_RESPONSE, 2);
    own.proc.kill('SIGKILL');
    await client.waitForLine(/^error: (?:Peer closed\.|\[Errno 104\] Connection reset by peer)$/);
    await client.waitForLine(new RegExp(`^closing connection to \\('127\\.0\\.0\\.1', ${own.port}\\)$`));
    assert.deepEqual(await client.waitForExit(), { code: 1, signal: null }, client.describe());
    assert.equal(client.err.text, '', client.describe());
  });
});
