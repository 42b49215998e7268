/**
 * Both programs' command lines: bad arguments exit 2 with one line and the usage on stderr,
 * --help and --version exit 0 on stdout, and a client that cannot reach its server says so in
 * one line and exits 1.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { after, describe, test } from 'node:test';
import { STACK_TRACE, freePort, killAll, spawnClient, spawnServer, type ChildProc } from '../support/process.js';

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
  ['multi-socket-client', ['127.0.0.1', '1', 'loud'], /mode.*'loud'|'loud'.*mode/],
  ['multi-socket-client', ['127.0.0.1', '70000'], /port.*70000|70000.*port/],
  ['multi-socket-client', ['127.0.0.1', 'abc'], /port.*abc|abc.*port/],
  ['multi-socket-client', ['--nope'], /--nope/],
  ['multi-socket-client', ['127.0.0.1', '1', 'user', 'extra'], /extra/],
];

describe('bad command lines exit 2 with one line and the usage on stderr', { concurrency: 4 }, () => {
  for (const [program, args, names] of BAD) {
    test(`${program} ${args.join(' ')}`, async () => {
      const proc = await finished(program, args);
      assert.deepEqual(proc.exit, { code: 2, signal: null }, proc.describe());
      assert.equal(proc.out.text, '', `nothing on stdout\n${proc.describe()}`);
      const [first = '', second, third = ''] = proc.err.lines;
      assert.ok(first.startsWith(`${program}: `), proc.describe());
      assert.match(first, names, proc.describe());
      assert.equal(second, '', `the line, then the usage\n${proc.describe()}`);
      assert.ok(third.startsWith(`usage: ${program} <host> <port> <mode>`), proc.describe());
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
