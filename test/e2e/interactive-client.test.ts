/**
 * The interactive client in a real pseudo-terminal, against the real server, sent real key
 * presses (no Enter): what a user sees, the exit codes, and a terminal given back as it was.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import {
  GOT_RESPONSE,
  killAll,
  quote,
  spawnClientInPty,
  spawnShellInPty,
  spawnListeningServer,
  statisticsChecks,
  waitForLines,
  type PtyProc,
  type ListeningServer,
} from '../support/process.js';

const HINT = /^Press 's' for statistics or 'q' to quit\.$/;
const SLEEPY = /^sleepy for a \d+(?:\.\d+)? seconds?$/;
const STATISTICS_ANSWER = /^got response: b'Statistics: (\d+) symbols was delivered'$/;

let server: ListeningServer;

before(async () => {
  server = await spawnListeningServer();
});

after(async () => {
  await killAll();
});

/** Starts the client in a terminal and waits until it is connected and showing the hint. */
async function connectedClient(): Promise<PtyProc> {
  const client = spawnClientInPty(['127.0.0.1', String(server.port)]);
  await client.waitForLine(new RegExp(`^starting connection to ${escape(server.label)}$`));
  await client.waitForLine(HINT);
  return client;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The terminal's settings as `stty -a` prints them, for the terminal the client runs in. */
async function terminalSettings(client: PtyProc): Promise<string> {
  const device = (client.pty as unknown as { ptsName?: string }).ptsName;
  assert.ok(device !== undefined, 'node-pty names the terminal device');
  const { stdout } = await promisify(execFile)('stty', ['-F', device, '-a']);
  return stdout;
}

function hasFlag(settings: string, flag: string): boolean {
  return new RegExp(`(^|\\s)${flag}(\\s|$)`, 'm').test(settings);
}

describe('interactive client in a terminal', { concurrency: true }, () => {
  test('streams sleepy/got response pairs; s asks for statistics that count every symbol shown; q quits with 0', async () => {
    const client = await connectedClient();
    await waitForLines(client, GOT_RESPONSE, 3);

    // Raw mode: single key presses, no echo, no line editing.
    const during = await terminalSettings(client);
    assert.ok(hasFlag(during, '-icanon') && hasFlag(during, '-echo'), `terminal in raw mode while the client runs:\n${during}`);

    client.write('s');
    await client.waitForLine(new RegExp(`^sending b's' to ${escape(server.label)}$`));
    await client.waitForLine(STATISTICS_ANSWER);
    await waitForLines(client, GOT_RESPONSE, 2);
    client.write('s');
    await client.waitForLine(STATISTICS_ANSWER);

    // Any other key shows the hint again; an arrow key (an escape sequence) is one key, not a character.
    client.write('x');
    await client.waitForLine(HINT);
    client.write('\x1b[A');
    await client.waitForLine(HINT);

    client.write('q');
    await client.waitForLine(new RegExp(`^closing connection to ${escape(server.label)}$`));
    const exit = await client.waitForExit();
    assert.deepEqual(exit, { code: 0, signal: null }, client.describe());

    const lines = client.out.lines;
    // Every response comes right after its `sleepy for a N seconds` line.
    lines.forEach((line, i) => {
      if (GOT_RESPONSE.test(line)) assert.match(lines[i - 1] ?? '', SLEEPY, `line ${i} of\n${lines.join('\n')}`);
    });
    const checks = statisticsChecks(lines);
    assert.equal(checks.length, 2, lines.join('\n'));
    assert.ok((checks[0]?.chunks ?? 0) >= 3, 'the first answer counts the chunks shown before it');
    for (const check of checks) assert.equal(check.reported, check.counted, `statistics = symbols shown since the last answer\n${lines.join('\n')}`);
    // The original's hint at every key press (s, s, x, the arrow, q) after the one on connecting,
    // and its warning for the arrow, a key that is not a character.
    assert.equal(lines.filter((line) => HINT.test(line)).length, 6, `the hint on connecting and at each of five keys\n${lines.join('\n')}`);
    assert.equal(lines.filter((line) => line === 'be careful with excess pressing, young man').length, 1, lines.join('\n'));

    // The server saw the client go: the original's two lines.
    await server.proc.waitForLine(/^error: Peer closed$/);
    await server.proc.waitForLine(/^closing connection to \('127\.0\.0\.1', \d+\)$/);
  });

  test('Ctrl-C quits with exit code 130', async () => {
    const client = await connectedClient();
    await client.waitForLine(GOT_RESPONSE);
    client.write('\x03');
    await client.waitForLine(new RegExp(`^closing connection to ${escape(server.label)}$`));
    assert.deepEqual(await client.waitForExit(), { code: 130, signal: null }, client.describe());
  });

  test('Ctrl-D quits with exit code 0', async () => {
    const client = await connectedClient();
    client.write('\x04');
    await client.waitForLine(new RegExp(`^closing connection to ${escape(server.label)}$`));
    assert.deepEqual(await client.waitForExit(), { code: 0, signal: null }, client.describe());
  });

  test('keys typed after q are not acted on', async () => {
    const client = await connectedClient();
    client.write('qs');
    assert.deepEqual(await client.waitForExit(), { code: 0, signal: null }, client.describe());
    const lines = client.out.lines.filter((line) => line !== '');
    assert.ok(!lines.some((line) => line.startsWith('sending ')), `no request after q:\n${client.describe()}`);
    // The s after q is not read at all: nothing follows the closing line (no request, no hint, no error).
    assert.equal(lines.at(-1), `closing connection to ${server.label}`, client.describe());
  });

  /**
   * The client runs under a shell in the terminal; the shell records the settings before and
   * after. The inner `sh -c 'echo $$; exec node ...'` prints the client's own pid so a test can
   * signal the client alone.
   */
  function clientUnderShell(): PtyProc {
    const run = `echo "client-pid=$$"; exec "$NODE" "$CLIENT" 127.0.0.1 ${server.port}`;
    return spawnShellInPty(`echo "before=$(stty -g)"; sh -c ${quote(run)}; echo "client-exit=$?"; echo "after=$(stty -g)"; stty -a`, 'sh + client (pty)');
  }

  async function assertRestored(shell: PtyProc, code: number): Promise<void> {
    const [, exitCode] = await shell.waitForLine(/^client-exit=(\d+)$/);
    assert.equal(Number(exitCode), code, shell.describe());
    assert.deepEqual(await shell.waitForExit(), { code: 0, signal: null }, shell.describe());
    const lines = shell.out.lines;
    const before = lines.find((line) => line.startsWith('before='));
    const afterSettings = lines.find((line) => line.startsWith('after='));
    assert.ok(before !== undefined && afterSettings !== undefined, shell.describe());
    assert.equal(afterSettings.slice('after='.length), before.slice('before='.length), `stty -g before and after the client\n${shell.describe()}`);
    const settings = shell.out.text.slice(shell.out.text.lastIndexOf('after='));
    assert.ok(hasFlag(settings, 'icanon') && hasFlag(settings, 'echo'), `echo and icanon back on:\n${settings}`);
  }

  for (const [name, key, code] of [
    ['q', 'q', 0],
    ['Ctrl-C', '\x03', 130],
  ] as const) {
    test(`${name} restores the terminal settings`, async () => {
      const shell = clientUnderShell();
      await shell.waitForLine(HINT);
      await shell.waitForLine(GOT_RESPONSE);
      shell.write(key);
      await assertRestored(shell, code);
    });
  }

  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    test(`${signal} to the client restores the terminal and exits with ${code}`, async () => {
      const shell = clientUnderShell();
      const [, pid] = await shell.waitForLine(/^client-pid=(\d+)$/);
      await shell.waitForLine(HINT);
      await shell.waitForLine(GOT_RESPONSE);
      assert.ok(hasFlag(await terminalSettings(shell), '-icanon'), 'raw mode while the client runs');
      process.kill(Number(pid), signal);
      await shell.waitForLine(/^closing connection to /);
      await assertRestored(shell, code);
    });
  }
});
