/**
 * The printer on a real pipe: a child process prints through it to its stdout, and this test
 * is the reader, one that stops reading or goes away.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { withTimeout } from '../support/wait.js';

const PRINTER = new URL('../../src/output/printer.js', import.meta.url).href;
/** 100 bytes with its newline. */
const LINE = 'x'.repeat(99);

/** Runs `body` in a child with `printer` printing to its stdout (fd 1) and `broken()` telling stderr. */
function printing(body: string, args: readonly string[] = []): ChildProcessByStdio<null, Readable, Readable> {
  const script = `
    import { Printer } from ${JSON.stringify(PRINTER)};
    const LINE = ${JSON.stringify(LINE)};
    const printer = new Printer(1, () => broken());
    ${body}`;
  return spawn(process.execPath, ['--input-type=module', '-e', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Resolves with everything `stream` carries once it ends; `onText` sees it as it comes. */
function collect(stream: Readable, onText: (text: string) => void = () => undefined): Promise<string> {
  let text = '';
  stream.setEncoding('utf8').on('data', (chunk: string) => {
    text += chunk;
    onText(text);
  });
  return once(stream, 'end').then(() => text);
}

void describe('Printer', () => {
  void it('drops lines beyond 16 MiB behind a reader that stopped, counts them, and says how many on drain', async () => {
    const total = 200_000;
    const child = printing(
      `
      function broken() { process.stderr.write('broken\\n'); }
      for (let i = 0; i < Number(process.argv[1]); i++) printer.line(LINE);
      process.stderr.write('written\\n');
      await printer.drain();
      process.stderr.write('drained\\n');`,
      [String(total)],
    );
    // Not read until every line is written: the pipe fills, then the printer's 16 MiB queue.
    child.stdout.pause();
    let received = 0;
    let reading = false;
    const stderr = collect(child.stderr, (text) => {
      if (reading || !text.startsWith('written\n')) return;
      reading = true;
      child.stdout.on('data', (data: Buffer) => (received += data.length)).resume();
    });
    const [code] = (await withTimeout(once(child, 'exit'), 20_000, 'the printing child to exit')) as [number | null];
    const lines = (await stderr).split('\n');
    assert.equal(code, 0, lines.join('\n'));
    const dropped = Number(/^(\d+) output lines dropped: the reader of stdout fell more than 16 MiB behind$/.exec(lines[1] ?? '')?.[1]);
    assert.deepEqual([lines[0], lines[2], lines[3]], ['written', 'drained', ''], lines.join('\n'));
    assert.equal(received % (LINE.length + 1), 0, 'only whole lines reach the reader');
    assert.ok(dropped > 0 && dropped < total, `${dropped} dropped`);
    assert.equal(received / (LINE.length + 1) + dropped, total, 'every line is either printed or counted as dropped');
  });

  void it('takes a reader that goes away (EPIPE) as the end: onBroken once, later lines dropped quietly, drain resolves', async () => {
    const child = printing(`
      let calls = 0;
      function broken() {
        process.stderr.write('broken ' + ++calls + '\\n');
        clearInterval(timer);
        printer.line('after the reader left');
        printer.drain().then(() => process.stderr.write('drained\\n'));
      }
      const timer = setInterval(() => printer.line(LINE), 1);`);
    child.stdout.once('data', () => child.stdout.destroy());
    const stderr = collect(child.stderr);
    const [code] = (await withTimeout(once(child, 'exit'), 10_000, 'the printing child to exit')) as [number | null];
    const text = await stderr;
    assert.equal(code, 0, text);
    assert.equal(text, 'broken 1\ndrained\n');
  });
});
