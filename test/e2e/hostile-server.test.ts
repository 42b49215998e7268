/**
 * The built client against servers that misbehave on purpose (a fake server on port 0 that
 * sends exactly the bytes each case needs): what reaches the terminal, the backoff, the exit
 * codes, statistics it cannot believe, servers that go silent, and each thing said once.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { FakeServer, chunk, frame, statistics, type FakeConnection } from '../support/fake-server.js';
import { freePort, killAll, spawnClient, type ChildProc } from '../support/process.js';

const fakes: FakeServer[] = [];

after(async () => {
  await killAll();
  await Promise.all(fakes.map((fake) => fake.stop()));
});

async function fakeServer(onConnection: (connection: FakeConnection) => void): Promise<FakeServer> {
  const fake = await FakeServer.start(onConnection);
  fakes.push(fake);
  return fake;
}

function client(fake: FakeServer, mode: string, ...options: string[]): ChildProc {
  return spawnClient(['127.0.0.1', String(fake.port), mode, ...options], 'ignore');
}

/** Control characters (C0, DEL, C1) and the Unicode line breaks: none may reach a terminal raw (the newlines between lines are taken out first). */
const RAW_CONTROL = /[\p{Cc}\u2028\u2029]/u;

/**
 * Reasons and header values written to take over a terminal and a script: a window title, a
 * screen clear (ESC and C1 CSI), a bell, and a newline that forges a statistics line.
 */
const FORGED = 'Statistics: 999 symbols was delivered';
const HOSTILE_TEXT = `\x1b]0;owned\x07\x1b[2J\u009b2J\n${FORGED}\r\x1b[1A`;

function assertNothingRaw(proc: ChildProc): void {
  const match = RAW_CONTROL.exec(proc.out.text.replaceAll('\n', ''));
  assert.equal(match, null, `a raw control character (${JSON.stringify(match?.[0])}) reached the output\n${proc.describe()}`);
  assert.ok(!proc.out.lines.some((line) => line.startsWith(FORGED)), `a forged line\n${proc.describe()}`);
  assert.ok(!proc.out.lines.some((line) => line.includes('"Statistics: 999')), `a forged json line\n${proc.describe()}`);
}

describe('a server that sends escape sequences', { concurrency: true }, () => {
  for (const mode of ['user', 'debug', 'quiet', 'json']) {
    test(`${mode}: error and shutdown reasons, header values and chunks are printed escaped`, async () => {
      const fake = await fakeServer(({ socket }) => {
        socket.write(chunk(`ab\x1b[2Jcd`, { 'content-type': `\x1b]0;owned\x07\u009b2J`, 'x-note': HOSTILE_TEXT }));
        socket.write(frame('error', `ERR_X: ${HOSTILE_TEXT}`));
        socket.end(frame('shutdown', `bye ${HOSTILE_TEXT}`));
      });
      const proc = client(fake, mode);
      assert.deepEqual(await proc.waitForExit(), { code: 0, signal: null }, proc.describe());
      assertNothingRaw(proc);
      if (mode === 'json') {
        for (const line of proc.out.lines) assert.doesNotThrow(() => JSON.parse(line), line);
        const reasons = proc.out.lines.map((line) => JSON.parse(line) as { event: string; reason?: string }).filter((e) => e.reason !== undefined);
        // Escaped for the terminal, but the same text once parsed.
        assert.deepEqual(
          reasons.map((e) => e.reason),
          [`ERR_X: ${HOSTILE_TEXT}`, `bye ${HOSTILE_TEXT}`],
          proc.describe(),
        );
      } else {
        // The reasons are still there, escaped as Python would: one line each.
        const escaped = '\\x1b]0;owned\\x07\\x1b[2J\\x9b2J\\nStatistics: 999 symbols was delivered\\r\\x1b[1A';
        await proc.waitForLine(new RegExp(`error: server says: ERR_X: ${escapeRegExp(escaped)}$`), { fromStart: true });
        await proc.waitForLine(new RegExp(`server shutting down: bye ${escapeRegExp(escaped)}$`), { fromStart: true });
      }
    });
  }
});

describe('reconnect backoff against servers that deliver nothing', { concurrency: true }, () => {
  const cases: readonly (readonly [string, (connection: FakeConnection) => void])[] = [
    ['accepts and drops every connection at once', ({ socket }) => socket.destroy()],
    ['refuses every connection with ERR_SERVER_FULL', ({ socket }) => socket.end(frame('error', 'ERR_SERVER_FULL: server full (1 clients)'))],
  ];
  for (const [name, behaviour] of cases) {
    test(`a server that ${name}: each attempt counts as a failure, and --reconnect-attempts gives up`, async () => {
      const fake = await fakeServer(behaviour);
      const proc = client(fake, 'quiet', '--reconnect', '--reconnect-delay', '0.02-0.2', '--reconnect-attempts', '3');
      assert.deepEqual(await proc.waitForExit(), { code: 1, signal: null }, proc.describe());
      const attempts = proc.out.lines.filter((line) => line.startsWith('reconnecting')).map((line) => /attempt (\d+) of 3/.exec(line)?.[1]);
      assert.deepEqual(attempts, ['1', '2', '3'], proc.describe());
      assert.equal(fake.connections.length, 4, 'the first connection and three retries');
    });
  }

  test('a connection that delivered a chunk resets the count: the next retry is attempt 1 again', async () => {
    const fake = await fakeServer(({ socket }) => socket.end(chunk('ab')));
    const proc = client(fake, 'quiet', '--reconnect', '--reconnect-delay', '0.02-0.2', '--reconnect-attempts', '2');
    for (let i = 0; i < 4; i++) await proc.waitForLine(/^reconnecting to .* \(attempt 1 of 2\)$/);
    assert.ok(proc.running, proc.describe());
    proc.kill('SIGTERM');
    assert.deepEqual(await proc.waitForExit(), { code: 143, signal: null }, proc.describe());
  });
});

describe('a server that shuts down and then resets the connection', { concurrency: true }, () => {
  /** Once the client is surely connected (it has asked for statistics): a shutdown frame, then a reset. */
  async function shutdownThenReset(): Promise<FakeServer> {
    return fakeServer((connection) => {
      void connection
        .requests(1)
        .then(() => connection.socket.write(frame('shutdown', 'server shutting down (SIGTERM)'), () => connection.socket.resetAndDestroy()))
        .catch(() => undefined);
    });
  }

  test('exit 0, and no error line: the server said it was going', async () => {
    const fake = await shutdownThenReset();
    const proc = spawnClient(['127.0.0.1', String(fake.port), 'user']);
    proc.write('s');
    assert.deepEqual(await proc.waitForExit(), { code: 0, signal: null }, proc.describe());
    assert.ok(proc.out.lines.includes('server shutting down (SIGTERM)'), proc.describe());
    assert.ok(!proc.out.lines.some((line) => line.startsWith('error')), proc.describe());
  });

  test('with --reconnect it is a shutdown, and the client tries again', async () => {
    const fake = await shutdownThenReset();
    const proc = spawnClient(['127.0.0.1', String(fake.port), 'quiet', '--reconnect', '--reconnect-delay', '0.02-0.2']);
    proc.write('s');
    await proc.waitForLine(/^server shutting down \(SIGTERM\)$/);
    await proc.waitForLine(/^reconnecting to .* \(attempt 1\)$/);
    proc.kill('SIGINT');
    assert.deepEqual(await proc.waitForExit(), { code: 130, signal: null }, proc.describe());
    assert.ok(!proc.out.lines.some((line) => line.startsWith('error')), proc.describe());
  });
});

describe('statistics answers the client cannot believe', { concurrency: true }, () => {
  /** A server that answers the client's requests, in order, with `answers`. */
  async function answering(answers: readonly Buffer[]): Promise<{ fake: FakeServer; proc: ChildProc }> {
    const fake = await fakeServer((connection) => {
      connection.socket.write(chunk('abc'));
      void (async () => {
        for (const [i, answer] of answers.entries()) {
          await connection.requests(i + 1);
          connection.socket.write(answer);
        }
      })().catch(() => undefined);
    });
    const proc = spawnClient(['127.0.0.1', String(fake.port), 'debug']);
    return { fake, proc };
  }

  test('a count beyond 2^53 is an error with its code, never a rounded or infinite figure; an exact one prints exactly', async () => {
    const { proc } = await answering([statistics('9'.repeat(400)), statistics('1'.repeat(20)), statistics(String(Number.MAX_SAFE_INTEGER))]);
    await proc.waitForLine(/got response: b'abc'$/);
    proc.write('s');
    await proc.waitForLine(/error: statistics answer with a count too large to be real: b'Statistics: 9+.*' \(\d+ bytes\) \(ERR_STATISTICS_INVALID\)$/);
    proc.write('s');
    await proc.waitForLine(/error: statistics answer with a count too large to be real: b'Statistics: 1{20} symbols was delivered' \(ERR_STATISTICS_INVALID\)$/);
    proc.write('s');
    await proc.waitForLine(/statistics: server reports 9007199254740991 symbols, client counted 0 \(MISMATCH by 9007199254740991\)$/);
    proc.write('q');
    assert.deepEqual(await proc.waitForExit(), { code: 0, signal: null }, proc.describe());
    assert.doesNotMatch(proc.out.text, /Infinity|e\+/);
  });

  test('an answer in other words is reported, and the client counts again from 0, as the server did', async () => {
    const { proc } = await answering([frame('statistics', 'Statistics: 3 symbol delivered'), statistics(0)]);
    await proc.waitForLine(/got response: b'abc'$/);
    proc.write('s');
    await proc.waitForLine(/error: statistics answer not in the form 'Statistics: N symbols was delivered': b'Statistics: 3 symbol delivered' \(ERR_STATISTICS_INVALID\)$/);
    proc.write('s');
    await proc.waitForLine(/statistics: server reports 0 symbols, client counted 0 \(match\)$/);
    proc.write('q');
    assert.deepEqual(await proc.waitForExit(), { code: 0, signal: null }, proc.describe());
  });
});

describe('a server that goes silent', { concurrency: true }, () => {
  test('--idle-timeout: no frame for that long ends the client with exit 1, saying so', async () => {
    const fake = await fakeServer(() => undefined);
    const proc = client(fake, 'user', '--idle-timeout', '0.5');
    await proc.waitForLine(new RegExp(`^error: no frame from ${escapeRegExp(fake.label)} for 0\\.5 s \\(--idle-timeout\\)$`));
    assert.deepEqual(await proc.waitForExit(), { code: 1, signal: null }, proc.describe());
  });

  test('--idle-timeout counts frames, not bytes: a server that trickles a frame byte by byte is idle too', async () => {
    const fake = await fakeServer(({ socket }) => {
      const bytes = chunk('abc');
      let sent = 0;
      const timer = setInterval(() => {
        if (sent < bytes.length && !socket.destroyed) socket.write(bytes.subarray(sent, ++sent));
      }, 50);
      socket.on('close', () => clearInterval(timer));
    });
    const proc = client(fake, 'quiet', '--idle-timeout', '0.5', '--reconnect', '--reconnect-delay', '0.02-0.2');
    await proc.waitForLine(/^error: no frame from .* for 0\.5 s \(--idle-timeout\)$/);
    await proc.waitForLine(/^reconnecting to .* \(attempt 1\)$/);
    proc.kill('SIGTERM');
    assert.deepEqual(await proc.waitForExit(), { code: 143, signal: null }, proc.describe());
  });

  test('TCP keepalive is on, so the system finds a peer that vanished', async (t) => {
    const fake = await fakeServer(({ socket }) => socket.write(chunk('abc')));
    const proc = client(fake, 'user');
    await proc.waitForLine(/got response: b'abc'$/);
    let listing: string;
    try {
      ({ stdout: listing } = await promisify(execFile)('ss', ['-tnoH', 'state', 'established', 'dport', `= :${fake.port}`]));
    } catch {
      t.skip('ss (iproute2) is not available');
      proc.kill('SIGTERM');
      return;
    }
    assert.match(listing, /timer:\(keepalive,/, listing);
    proc.kill('SIGTERM');
    await proc.waitForExit();
  });
});

describe('each thing said once', { concurrency: true }, () => {
  test('a server-full refusal is one error line, not followed by Peer closed', async () => {
    const fake = await fakeServer(({ socket }) => socket.end(frame('error', 'ERR_SERVER_FULL: server full (1 clients)')));
    const proc = client(fake, 'user');
    assert.deepEqual(await proc.waitForExit(), { code: 1, signal: null }, proc.describe());
    assert.deepEqual(
      proc.out.lines.filter((line) => line.startsWith('error')),
      ['error: server says: ERR_SERVER_FULL: server full (1 clients)'],
      proc.describe(),
    );
    assert.equal(proc.out.lines.at(-1), `closing connection to ${fake.label}`, proc.describe());
  });

  test("our server's shutdown reason is printed as it is: 'server shutting down (SIGINT)'", async () => {
    const fake = await fakeServer(({ socket }) => socket.end(frame('shutdown', 'server shutting down (SIGINT)')));
    const proc = client(fake, 'quiet');
    assert.deepEqual(await proc.waitForExit(), { code: 0, signal: null }, proc.describe());
    assert.deepEqual(proc.out.lines, ['server shutting down (SIGINT)'], proc.describe());
  });

  test('no closing line when no connection was ever made', async () => {
    const port = await freePort();
    const proc = spawnClient(['127.0.0.1', String(port), 'user', '--reconnect', '--reconnect-delay', '0.02-0.05', '--reconnect-attempts', '1'], 'ignore');
    assert.deepEqual(await proc.waitForExit(), { code: 1, signal: null }, proc.describe());
    assert.ok(!proc.out.lines.some((line) => line.startsWith('closing')), proc.describe());
    assert.match(proc.out.text, /Connection refused \(nothing listens on port \d+ there\)$/m, proc.describe());
  });

  test('a host that does not exist is named, in the system words, with what to check', async () => {
    const proc = spawnClient(['nosuchhost.invalid', '1', 'user'], 'ignore');
    assert.deepEqual(await proc.waitForExit(), { code: 1, signal: null }, proc.describe());
    assert.match(
      proc.out.text,
      /^error: cannot connect to \('nosuchhost\.invalid', 1\): .+ \((no host named 'nosuchhost\.invalid' was found|the name 'nosuchhost\.invalid' could not be looked up now)\)$/m,
      proc.describe(),
    );
    assert.doesNotMatch(proc.out.text, /getaddrinfo/);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
