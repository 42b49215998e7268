/**
 * The built client when its own output is the problem: a pipe nobody reads, a terminal that
 * hangs up, megabyte chunks into a file or /dev/null, keys faster than a server that does not
 * read. Against a fake server on port 0, so that each case gets exactly the stream it needs.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FakeServer, chunk, frame, type FakeConnection } from '../support/fake-server.js';
import { withTimeout } from '../support/wait.js';
import { ChildProc, killAll, quote, spawnClientInPty, spawnShell } from '../support/process.js';
import { CLIENT_BIN } from '../support/programs.js';

const MAX_RSS = fileURLToPath(new URL('../support/max-rss.js', import.meta.url));
const fakes: FakeServer[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'client-output-'));

after(async () => {
  await killAll();
  await Promise.all(fakes.map((fake) => fake.stop()));
  rmSync(scratch, { recursive: true, force: true });
});

async function fakeServer(onConnection: (connection: FakeConnection) => void): Promise<FakeServer> {
  const fake = await FakeServer.start(onConnection);
  fakes.push(fake);
  return fake;
}

/** Writes chunks of `size` symbols for as long as the connection lasts, as fast as it takes them. */
function pump(size: number): (connection: FakeConnection) => void {
  const bytes = chunk('x'.repeat(size));
  return ({ socket }) => {
    const more = (): void => {
      while (!socket.destroyed && socket.write(bytes));
    };
    socket.on('drain', more);
    more();
  };
}

/** The peak memory the client reported as it exited (see support/max-rss.ts), in MiB. */
function maxRssMib(stderr: string): number {
  const kib = /max-rss-kib=(\d+)/.exec(stderr)?.[1];
  assert.ok(kib !== undefined, `the client reported its peak memory\n${stderr}`);
  return Number(kib) / 1024;
}

/** The client command line with the memory report loaded, for /bin/sh. */
function clientCommand(args: readonly string[]): string {
  return ['"$NODE"', '--import', quote(MAX_RSS), '"$CLIENT"', ...args.map(quote)].join(' ');
}

describe('a signal while standard output is blocked', { concurrency: true }, () => {
  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const) {
    test(`${signal} with stdout a pipe nobody reads: exit ${code} at once, the lines never written counted on stderr`, async () => {
      const fake = await fakeServer(pump(1048576));
      // stdout is piped and read up to the start of the second chunk's line, then never again.
      // That line is a megabyte, more than the pipe and every buffer on the way hold: from
      // then on the client's output is stalled for good, whatever the timing.
      const child = spawn(process.execPath, [CLIENT_BIN, '127.0.0.1', String(fake.port), 'user'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
      const stderrEnded = once(child.stderr, 'end');
      const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      const MARK = 'got response: ';
      let responses = 0;
      // The end of what came before, too short to hold a whole mark: a mark split over two reads is counted once.
      let tail = '';
      const secondLine = new Promise<void>((resolve) => {
        const onData = (data: Buffer): void => {
          const text = tail + data.toString('latin1');
          responses += text.split(MARK).length - 1;
          tail = text.slice(-(MARK.length - 1));
          if (responses < 2) return;
          child.stdout.pause();
          child.stdout.off('data', onData);
          resolve();
        };
        child.stdout.on('data', onData);
      });
      try {
        await withTimeout(
          Promise.race([secondLine, exited.then(() => assert.fail(`the client exited early\n${stderr}`))]),
          10_000,
          "the second chunk's line",
        );
        const signalled = performance.now();
        child.kill(signal);
        const [exitCode, exitSignal] = await withTimeout(exited, 5_000, `the client to exit after ${signal}`);
        const tookMs = performance.now() - signalled;
        assert.deepEqual({ exitCode, exitSignal }, { exitCode: code, exitSignal: null }, stderr);
        assert.ok(tookMs < 3_000, `exited ${tookMs.toFixed(0)} ms after the signal`);
        await withTimeout(stderrEnded, 5_000, "the client's stderr to end");
        assert.match(stderr, /^\d+ output lines? not written: stdout was not being read when the client stopped$/m, stderr);
      } finally {
        child.kill('SIGKILL');
      }
    });
  }
});

describe('a terminal that hangs up', () => {
  test('the terminal closed while the client writes: exit 129, no crash, no core dump', async () => {
    const fake = await fakeServer(pump(4096));
    const client = spawnClientInPty(['127.0.0.1', String(fake.port), 'user']);
    await client.waitForLine(/^got response: b'x+'$/);
    // Closing the master side is what a closed window or a dropped SSH connection does.
    (client.pty as unknown as { destroy(): void }).destroy();
    assert.deepEqual(await client.waitForExit(), { code: 129, signal: null }, client.describe());
  });
});

describe('keys faster than a server that does not read', () => {
  test('8 MiB of s from a pipe to a server that reads nothing: memory stays bounded', async () => {
    const fake = await fakeServer(({ socket }) => {
      socket.pause();
      socket.write(chunk('abc'));
    });
    const client = new ChildProc('client', process.execPath, ['--import', MAX_RSS, CLIENT_BIN, '127.0.0.1', String(fake.port), 'quiet']);
    const stdin = client.child.stdin;
    assert.ok(stdin !== null);
    const keys = Buffer.alloc(64 * 1024, 's');
    for (let i = 0; i < 128; i++) {
      if (!stdin.write(keys)) await withTimeout(once(stdin, 'drain'), 20_000, 'the client to read its keys');
    }
    // All but the last pipe-full has been read; the client is still up, with bounded memory.
    await withTimeout(new Promise<void>((resolve) => stdin.write('', () => resolve())), 20_000, 'the last keys to be taken');
    assert.ok(client.running, client.describe());
    client.kill('SIGTERM');
    assert.deepEqual(await client.waitForExit(20_000), { code: 143, signal: null }, client.describe());
    const rss = maxRssMib(client.err.text);
    assert.ok(rss < 150, `peak RSS ${rss.toFixed(0)} MiB`);
  });
});

describe('megabyte chunks', { concurrency: true }, () => {
  const CHUNKS = 24;
  const MIB = 1048576;

  /** A server that sends CHUNKS chunks of `size` symbols, then shuts down. */
  async function bigChunks(size: number): Promise<FakeServer> {
    return fakeServer(({ socket }) => {
      const content = Buffer.alloc(size, 'k');
      let left = CHUNKS;
      const more = (): void => {
        while (left > 0) {
          left--;
          if (!socket.write(chunk(content.toString('latin1')))) return;
        }
        socket.end(frame('shutdown', 'server shutting down (test)'));
      };
      socket.on('drain', more);
      more();
    });
  }

  test('1 MiB chunks into a file: every line written whole, memory proportional to one chunk', async () => {
    const fake = await bigChunks(MIB);
    const file = join(scratch, 'chunks.txt');
    const shell = spawnShell(`${clientCommand(['127.0.0.1', String(fake.port), 'user'])} </dev/null >${quote(file)}`);
    assert.deepEqual(await shell.waitForExit(30_000), { code: 0, signal: null }, shell.describe());
    const lines = readFileSync(file, 'latin1').split('\n');
    const responses = lines.filter((line) => line.startsWith('got response: '));
    assert.equal(responses.length, CHUNKS, `every chunk printed\n${shell.describe()}`);
    for (const line of responses) assert.equal(line.length, "got response: b''".length + MIB);
    assert.doesNotMatch(shell.err.text, /not written|dropped/, shell.describe());
    const rss = maxRssMib(shell.err.text);
    assert.ok(rss < 120, `peak RSS ${rss.toFixed(0)} MiB for 1 MiB chunks`);
  });

  for (const size of [MIB, 16 * MIB]) {
    test(`${size / MIB} MiB chunks into /dev/null: nothing dropped, memory proportional to one chunk`, async () => {
      const fake = await bigChunks(size);
      const shell = spawnShell(`${clientCommand(['127.0.0.1', String(fake.port), 'user', '--max-content', String(16 * MIB)])} </dev/null >/dev/null`);
      assert.deepEqual(await shell.waitForExit(60_000), { code: 0, signal: null }, shell.describe());
      assert.doesNotMatch(shell.err.text, /not written|dropped/, shell.describe());
      const rss = maxRssMib(shell.err.text);
      // About 100 MiB for the program and its buffers; then each chunk is held a few times over
      // (read, framed, escaped, encoded), and the garbage of the one before until it is
      // collected: 215-263 MiB for 16 MiB chunks over runs idle and loaded, so twelve times a
      // chunk, where holding the 24 chunks would take more than 480.
      assert.ok(rss < 100 + (12 * size) / MIB, `peak RSS ${rss.toFixed(0)} MiB for ${size / MIB} MiB chunks`);
    });
  }
});
