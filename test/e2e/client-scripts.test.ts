/**
 * The client as scripts use it: the README's own example run as written, keys that come before
 * the connection, `q` right after `s`, `--exit-on-eof`, and a connection that never comes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { FakeServer, chunk } from '../support/fake-server.js';
import { freePort, killAll, spawnClientInPty, spawnShell, spawnListeningServer, waitForLines, type ListeningServer } from '../support/process.js';

const STATISTICS = /^Statistics: (\d+) symbols was delivered$/;

let server: ListeningServer;

before(async () => {
  server = await spawnListeningServer();
});

after(async () => {
  await killAll();
});

/** The README's scripting examples: the shell lines that pipe keys into the client. */
function readmeExamples(): string[] {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  return [...readme.matchAll(/```sh\n([^`]*?)```/g)].flatMap((block) => (block[1] ?? '').split('\n')).filter((line) => /^printf .*\| multi-socket-client /.test(line));
}

/** A README line as this machine runs it: the built client, the test server's address. */
function asRun(line: string, port: number): string {
  return line.replace('multi-socket-client localhost 65432', `"$NODE" "$CLIENT" 127.0.0.1 ${port}`);
}

describe('the README scripting example', () => {
  test('runs as written: the two answers, exit 0, nothing on stderr', async () => {
    const examples = readmeExamples();
    assert.equal(examples.length, 1, `one scripting example in the README: ${JSON.stringify(examples)}`);
    const example = examples[0] as string;
    assert.match(example, /--exit-on-eof/);
    const started = performance.now();
    const shell = spawnShell(asRun(example, server.port), 'README example');
    assert.deepEqual(await shell.waitForExit(), { code: 0, signal: null }, shell.describe());
    assert.equal(shell.out.lines.length, 2, shell.describe());
    for (const line of shell.out.lines) assert.match(line, STATISTICS, shell.describe());
    assert.equal(shell.err.text, '', shell.describe());
    assert.ok(performance.now() - started < 5_000, 'ends as soon as the answers are in');
  });
});

describe('keys in a script', { concurrency: true }, () => {
  test("without --exit-on-eof, keys read before the connection still wait for it: printf 'ss' prints two answers", async () => {
    const shell = spawnShell(`printf 'ss' | "$NODE" "$CLIENT" 127.0.0.1 ${server.port} quiet & echo "client-pid=$!" >&2; wait`, 'printf ss | client');
    const [, pid] = await shell.err.waitForLine(/^client-pid=(\d+)$/);
    await waitForLines(shell, STATISTICS, 2);
    process.kill(Number(pid), 'SIGTERM');
    assert.deepEqual(await shell.waitForExit(), { code: 0, signal: null }, shell.describe());
    assert.ok(!shell.out.text.includes('not connected'), shell.describe());
  });

  test("q right after s (printf 'sq'): the answer is shown, then the client quits with 0", async () => {
    const shell = spawnShell(`printf 'sq' | "$NODE" "$CLIENT" 127.0.0.1 ${server.port} quiet`, 'printf sq | client');
    assert.deepEqual(await shell.waitForExit(), { code: 0, signal: null }, shell.describe());
    assert.equal(shell.out.lines.length, 1, shell.describe());
    assert.match(shell.out.lines[0] ?? '', STATISTICS, shell.describe());
  });

  test('q right after s typed in a terminal: the answer comes before the closing line', async () => {
    const client = spawnClientInPty(['127.0.0.1', String(server.port)]);
    await client.waitForLine(/^got response: b'[A-Za-z0-9]+'$/);
    client.write('sq');
    await client.waitForLine(/^got response: b'Statistics: \d+ symbols was delivered'$/);
    await client.waitForLine(/^closing connection to /);
    assert.deepEqual(await client.waitForExit(), { code: 0, signal: null }, client.describe());
  });

  test('--exit-on-eof with stdin at its end and nothing asked: the client ends at once, exit 0', async () => {
    const shell = spawnShell(`"$NODE" "$CLIENT" 127.0.0.1 ${server.port} quiet --exit-on-eof </dev/null`, 'client --exit-on-eof');
    assert.deepEqual(await shell.waitForExit(), { code: 0, signal: null }, shell.describe());
    assert.deepEqual(shell.out.lines, [], shell.describe());
  });

  test('--exit-on-eof against a server that never answers: the wait for the answer is bounded', async () => {
    const fake = await FakeServer.start(({ socket }) => socket.write(chunk('abc')));
    try {
      const started = performance.now();
      const shell = spawnShell(`printf 's' | "$NODE" "$CLIENT" 127.0.0.1 ${fake.port} quiet --exit-on-eof`, 'client --exit-on-eof, no answer');
      assert.deepEqual(await shell.waitForExit(12_000), { code: 0, signal: null }, shell.describe());
      const tookMs = performance.now() - started;
      assert.ok(tookMs > 4_000 && tookMs < 10_000, `waited ${tookMs.toFixed(0)} ms for the answer (5 s at most)`);
    } finally {
      await fake.stop();
    }
  });

  test('SIGINT while quitting waits for an answer ends the wait: exit 130 at once', async () => {
    const fake = await FakeServer.start(({ socket }) => socket.write(chunk('abc')));
    try {
      const client = spawnClientInPty(['127.0.0.1', String(fake.port)]);
      await client.waitForLine(/^got response: b'abc'$/);
      client.write('sq');
      await client.waitForLine(/^sending b's' to /);
      // The hint for q: printed as q is handled, in the same turn that starts the wait.
      await client.waitForLine(/^Press 's' for statistics or 'q' to quit\.$/);
      const waiting = performance.now();
      client.kill('SIGINT');
      assert.deepEqual(await client.waitForExit(), { code: 130, signal: null }, client.describe());
      assert.ok(performance.now() - waiting < 3_000, 'the wait for the answer was cut short');
    } finally {
      await fake.stop();
    }
  });

  test('a connection that never comes: the requests are said not sent, because no connection was made', async () => {
    const port = await freePort();
    const shell = spawnShell(`printf 'ss' | "$NODE" "$CLIENT" 127.0.0.1 ${port} quiet`, 'printf ss | client, no server');
    assert.deepEqual(await shell.waitForExit(), { code: 1, signal: null }, shell.describe());
    assert.deepEqual(
      shell.out.lines,
      [
        `error: cannot connect to ('127.0.0.1', ${port}): [Errno 111] Connection refused (nothing listens on port ${port} there)`,
        `error: 2 statistics requests not sent: no connection to ('127.0.0.1', ${port}) was made`,
      ],
      shell.describe(),
    );
  });
});
