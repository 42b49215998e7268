/**
 * Both programs' command lines: bad arguments exit 2 with one line and a short usage on stderr,
 * --help and --version exit 0 on stdout, the smallest limits the programs accept still let them
 * work, and a program that cannot listen or connect says so in one line and exits 1.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { after, describe, test } from 'node:test';
import { GOT_RESPONSE, STACK_TRACE, freePort, killAll, spawnClient, spawnListeningServer, spawnServer, waitForLines, type ChildProc } from '../support/process.js';
import { MIN_SERVER_CONTENT, MIN_SERVER_HEADER } from '../../src/cli/client-command.js';
import { MIN_REQUEST_HEADER } from '../../src/cli/server-command.js';
import { CLIENT_BIN, SERVER_BIN } from '../support/programs.js';

after(async () => {
  await killAll();
});

const PROGRAMS = {
  'multi-socket-server': spawnServer,
  'multi-socket-client': spawnClient,
} as const;
type Program = keyof typeof PROGRAMS;

/** dist/test/e2e/ -> the package root. */
const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

async function finished(program: Program, args: readonly string[]): Promise<ChildProc> {
  const proc = PROGRAMS[program](args, 'ignore');
  await proc.waitForExit();
  return proc;
}

/** [program, arguments, what the one line must name] */
const BAD: readonly (readonly [Program, readonly string[], RegExp])[] = [
  ['multi-socket-server', ['127.0.0.1', '0', 'loud'], /mode.*'loud'|'loud'.*mode/],
  ['multi-socket-server', ['127.0.0.1', '70000'], /port.*70000|70000.*port/],
  ['multi-socket-server', ['127.0.0.1', 'abc'], /port.*abc|abc.*port/],
  ['multi-socket-server', ['--chars', '5-1'], /--chars.*5-1/],
  ['multi-socket-server', ['--interval', 'a-b'], /--interval.*a-b/],
  ['multi-socket-server', ['--interval', '1-2-3'], /--interval.*1-2-3/],
  ['multi-socket-server', ['--interval'], /--interval/],
  ['multi-socket-server', ['--nope'], /--nope/],
  ['multi-socket-server', ['127.0.0.1', '0', 'user', 'extra'], /extra/],
  ['multi-socket-server', ['8000'], /host '8000': that looks like a port; the host comes first, e\.g\. localhost 8000/],
  ['multi-socket-server', ['--alphabet', '+-/'], /--alphabet.*'\+-\/'.*range/],
  ['multi-socket-server', ['--max-header', '64'], new RegExp(`--max-header '64'.*from ${MIN_REQUEST_HEADER}`)],
  ['multi-socket-client', ['127.0.0.1', '1', 'loud'], /mode.*'loud'|'loud'.*mode/],
  ['multi-socket-client', ['127.0.0.1', '70000'], /port.*70000|70000.*port/],
  ['multi-socket-client', ['127.0.0.1', 'abc'], /port.*abc|abc.*port/],
  ['multi-socket-client', ['--nope'], /--nope/],
  ['multi-socket-client', ['127.0.0.1', '1', 'user', 'extra'], /extra/],
  ['multi-socket-client', ['127.0.0.1', '0'], /port '0'.*from 1 to 65535/],
  ['multi-socket-client', ['8000'], /host '8000'.*port/],
  ['multi-socket-client', ['--max-header', '16'], new RegExp(`--max-header '16'.*from ${MIN_SERVER_HEADER}`)],
  ['multi-socket-client', ['--max-content', '16'], new RegExp(`--max-content '16'.*from ${MIN_SERVER_CONTENT}`)],
  ['multi-socket-client', ['--reconnect-delay', '5-1'], /--reconnect-delay '5-1'/],
  ['multi-socket-client', ['--reconnect-attempts', '3'], /--reconnect-attempts need --reconnect/],
];

describe('bad command lines exit 2 with one line and a short usage on stderr', { concurrency: 4 }, () => {
  for (const [program, args, names] of BAD) {
    test(`${program} ${args.join(' ')}`, async () => {
      const proc = await finished(program, args);
      assert.deepEqual(proc.exit, { code: 2, signal: null }, proc.describe());
      assert.equal(proc.out.text, '', `nothing on stdout\n${proc.describe()}`);
      const [first = '', second, third = '', fourth, ...rest] = proc.err.lines.filter((line, i, all) => line !== '' || i < all.length - 1);
      assert.ok(first.startsWith(`${program}: `), proc.describe());
      assert.match(first, names, proc.describe());
      assert.equal(second, '', `the line, then the usage\n${proc.describe()}`);
      assert.ok(third.startsWith(`usage: ${program} <host> <port> <mode>`), proc.describe());
      // The synopsis and where to read on, not the whole help that --help prints.
      assert.equal(fourth, `Run '${program} --help' for the arguments and options.`, proc.describe());
      assert.deepEqual(rest, [], proc.describe());
      assert.doesNotMatch(proc.err.text, STACK_TRACE);
    });
  }
});

describe('--help and --version', { concurrency: 4 }, () => {
  for (const program of Object.keys(PROGRAMS) as Program[]) {
    for (const flag of ['--help']) {
      test(`${program} ${flag}`, async () => {
        const proc = await finished(program, [flag]);
        assert.deepEqual(proc.exit, { code: 0, signal: null }, proc.describe());
        assert.ok(proc.out.lines[0]?.startsWith(`usage: ${program} <host> <port> <mode>`), proc.describe());
        assert.equal(proc.err.text, '', proc.describe());
      });
    }
    for (const flag of ['--version']) {
      test(`${program} ${flag}`, async () => {
        const proc = await finished(program, [flag]);
        assert.deepEqual(proc.exit, { code: 0, signal: null }, proc.describe());
        assert.equal(proc.out.text, `${VERSION}\n`, proc.describe());
        assert.equal(proc.err.text, '', proc.describe());
      });
    }
  }
});

/** Every line the program printed, apart from the `starting connection to` it always begins with. */
function problemLines(proc: ChildProc): string[] {
  return [...proc.out.lines, ...proc.err.lines].filter((line) => line !== '' && !line.startsWith('starting connection to '));
}

describe('failures at run time exit 1 with one clear line', { concurrency: true }, () => {
  test('client: connection refused', async () => {
    const port = await freePort();
    const proc = await finished('multi-socket-client', ['127.0.0.1', String(port)]);
    assert.deepEqual(proc.exit, { code: 1, signal: null }, proc.describe());
    const lines = problemLines(proc);
    assert.equal(lines.length, 1, proc.describe());
    assert.match(lines[0] ?? '', /refused/i);
    assert.match(lines[0] ?? '', new RegExp(String(port)));
    assert.doesNotMatch(proc.err.text + proc.out.text, STACK_TRACE);
  });

  test('client: unresolvable host', async () => {
    const proc = await finished('multi-socket-client', ['nonexistent.invalid', '65432']);
    assert.deepEqual(proc.exit, { code: 1, signal: null }, proc.describe());
    const lines = problemLines(proc);
    assert.equal(lines.length, 1, proc.describe());
    assert.match(lines[0] ?? '', /nonexistent\.invalid/);
    assert.doesNotMatch(proc.err.text + proc.out.text, STACK_TRACE);
  });

  test('server: port already in use', async () => {
    const holder = createServer();
    holder.listen(0, '127.0.0.1');
    await once(holder, 'listening');
    const { port } = holder.address() as { port: number };
    try {
      const proc = await finished('multi-socket-server', ['127.0.0.1', String(port)]);
      assert.deepEqual(proc.exit, { code: 1, signal: null }, proc.describe());
      const lines = problemLines(proc);
      assert.equal(lines.length, 1, proc.describe());
      assert.match(lines[0] ?? '', /in use|EADDRINUSE/i);
      assert.doesNotMatch(proc.err.text + proc.out.text, STACK_TRACE);
    } finally {
      holder.close();
    }
  });
});

describe('the smallest limits let the programs work', { concurrency: true }, () => {
  test(`server --max-header ${MIN_REQUEST_HEADER} takes a real client's request`, async () => {
    const server = await spawnListeningServer('127.0.0.1', 'quiet', ['--interval', '0.05-0.1', '--max-header', String(MIN_REQUEST_HEADER)]);
    const client = spawnClient(['127.0.0.1', String(server.port)]);
    await client.waitForLine(GOT_RESPONSE);
    client.write('s');
    await client.waitForLine(/^got response: b'Statistics: \d+ symbols was delivered'$/);
    client.write('q');
    assert.deepEqual(await client.waitForExit(), { code: 0, signal: null }, client.describe());
    assert.doesNotMatch(server.proc.out.text, /error/, server.proc.describe());
    server.proc.kill('SIGTERM');
    assert.deepEqual(await server.proc.waitForExit(), { code: 0, signal: null }, server.proc.describe());
  });

  test(`client --max-header ${MIN_SERVER_HEADER} --max-content ${MIN_SERVER_CONTENT} takes a real server's chunks and answers`, async () => {
    const server = await spawnListeningServer('127.0.0.1', 'quiet', ['--interval', '0.05-0.1']);
    const client = spawnClient(['127.0.0.1', String(server.port), 'user', '--max-header', String(MIN_SERVER_HEADER), '--max-content', String(MIN_SERVER_CONTENT)]);
    await waitForLines(client, GOT_RESPONSE, 2);
    client.write('s');
    await client.waitForLine(/^got response: b'Statistics: \d+ symbols was delivered'$/);
    client.write('q');
    assert.deepEqual(await client.waitForExit(), { code: 0, signal: null }, client.describe());
    server.proc.kill('SIGTERM');
    assert.deepEqual(await server.proc.waitForExit(), { code: 0, signal: null }, server.proc.describe());
  });

  test('--alphabet A-F sends the letters A to F and never a -', async () => {
    const server = await spawnListeningServer('127.0.0.1', 'user', ['--interval', '0.05-0.1', '--alphabet', 'A-F', '--chars', '5']);
    const client = spawnClient(['127.0.0.1', String(server.port)]);
    const chunks = await waitForLines(client, GOT_RESPONSE, 10);
    const symbols = chunks.map((match) => match[1] ?? '').join('');
    assert.match(symbols, /^[A-F]{50}$/, client.describe());
    client.write('q');
    assert.deepEqual(await client.waitForExit(), { code: 0, signal: null }, client.describe());
    server.proc.kill('SIGTERM');
    assert.deepEqual(await server.proc.waitForExit(), { code: 0, signal: null }, server.proc.describe());
  });
});

/** A port some other program holds for as long as the suite runs. */
async function takenPort(): Promise<{ port: number; release: () => void }> {
  const holder = createServer();
  holder.listen(0, '127.0.0.1');
  await once(holder, 'listening');
  return { port: (holder.address() as { port: number }).port, release: () => holder.close() };
}

describe('a server that cannot start says which listener, where and why, in one line, the same with or without --workers', { concurrency: true }, () => {
  for (const listener of ['server', 'metrics'] as const) {
    test(`the ${listener} port is taken`, async () => {
      const taken = await takenPort();
      try {
        const args = listener === 'server' ? ['127.0.0.1', String(taken.port), 'quiet'] : ['127.0.0.1', '0', 'quiet', '--metrics', `127.0.0.1:${taken.port}`];
        const runs = await Promise.all([finished('multi-socket-server', args), finished('multi-socket-server', [...args, '--workers', '2'])]);
        const named =
          listener === 'server'
            ? `cannot listen on ('127.0.0.1', ${taken.port}): [Errno 98] Address already in use (another program holds port ${taken.port}: stop it, or choose another port; 0 picks a free one)`
            : `cannot serve metrics on http://127.0.0.1:${taken.port}/metrics: [Errno 98] Address already in use (another program holds port ${taken.port}: stop it, or choose another --metrics port; 0 picks a free one)`;
        for (const proc of runs) {
          assert.deepEqual(proc.exit, { code: 1, signal: null }, proc.describe());
          // No `listening on` for a server that does not serve: a script waiting for it is not misled.
          assert.equal(proc.out.text, '', proc.describe());
          assert.deepEqual(proc.err.lines.filter((line) => line !== ''), [`multi-socket-server: error: ${named}`], proc.describe());
        }
      } finally {
        taken.release();
      }
    });

    test(`the ${listener} port is taken, in json mode: one listen-failed event on stdout`, async () => {
      const taken = await takenPort();
      try {
        const args = listener === 'server' ? ['127.0.0.1', String(taken.port), 'json'] : ['127.0.0.1', '0', 'json', '--metrics', `127.0.0.1:${taken.port}`];
        const runs = await Promise.all([finished('multi-socket-server', args), finished('multi-socket-server', [...args, '--workers', '2'])]);
        for (const proc of runs) {
          assert.deepEqual(proc.exit, { code: 1, signal: null }, proc.describe());
          assert.equal(proc.err.text, '', proc.describe());
          // With --workers, the workers that did listen before the metrics port failed say so.
          const lines = proc.out.lines.filter((line) => line !== '' && !line.includes('"event":"worker-listening"'));
          assert.equal(lines.length, 1, proc.describe());
          const event = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
          assert.deepEqual(
            [event['event'], event['listener'], event['host'], event['port'], event['code']],
            ['listen-failed', listener, '127.0.0.1', taken.port, 'EADDRINUSE'],
            proc.describe(),
          );
        }
      } finally {
        taken.release();
      }
    });
  }
});

describe('configuration from the environment, as a service manager gives it', () => {
  const run = (program: string, args: readonly string[], env: NodeJS.ProcessEnv) =>
    spawnSync(process.execPath, [program, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 10_000 });

  test('a bad value from the environment is one line naming the variable, and exit 2', () => {
    const result = run(SERVER_BIN, ['127.0.0.1', '0'], { MULTI_SOCKET_INTERVAL: '5-1' });
    assert.equal(result.status, 2, result.stderr);
    assert.equal(result.stderr.split('\n')[0], "multi-socket-server: invalid MULTI_SOCKET_INTERVAL '5-1': MIN is greater than MAX");
    assert.equal(result.stdout, '');
  });

  test('the client reads MULTI_SOCKET_CLIENT_*, and --help shows each variable', () => {
    const bad = run(CLIENT_BIN, [], { MULTI_SOCKET_CLIENT_PORT: '0' });
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr.split('\n')[0] ?? '', /^multi-socket-client: MULTI_SOCKET_CLIENT_PORT: invalid port '0'/);
    const help = run(CLIENT_BIN, ['--help'], {});
    assert.match(help.stdout, /^ {29}env: MULTI_SOCKET_CLIENT_IDLE_TIMEOUT$/m);
  });
});
