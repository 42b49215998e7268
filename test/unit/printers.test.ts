/**
 * The two printers: the server's, which never stalls and drops only when its reader is behind,
 * and the client's, which holds the client back instead of dropping, and owns up at the end to
 * what a stalled reader never took.
 */
import assert from 'node:assert/strict';
import { closeSync, openSync } from 'node:fs';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { FlowPrinter, Printer } from '../../src/output/printer.js';

/** Runs `body` with process.stderr.write captured; returns what was written to it. */
async function capturingStderr(body: () => Promise<void>): Promise<string> {
  const original = process.stderr.write.bind(process.stderr);
  let captured = '';
  process.stderr.write = (chunk: string | Uint8Array): boolean => {
    captured += String(chunk);
    return true;
  };
  try {
    await body();
  } finally {
    process.stderr.write = original;
  }
  return captured;
}

/** A reader that takes nothing: every write stays pending. */
function stalledStream(): Writable {
  return new Writable({ highWaterMark: 16, write: () => undefined });
}

void describe('Printer (the server)', () => {
  void it('writes a line longer than its queue bound whole when the reader keeps up, and says nothing', async () => {
    const fd = openSync('/dev/null', 'w');
    try {
      const printer = new Printer(fd);
      const noted = await capturingStderr(async () => {
        printer.line('x'.repeat(17 * 1048576));
        await printer.drain();
      });
      assert.equal(noted, '');
    } finally {
      closeSync(fd);
    }
  });
});

void describe('FlowPrinter (the client)', () => {
  void it('is full while its stream is behind, and calls back once it has caught up', async () => {
    const writes: (() => void)[] = [];
    const out = new Writable({ highWaterMark: 16, write: (_chunk, _encoding, done) => void writes.push(done) });
    const printer = new FlowPrinter(out, () => undefined);
    printer.line('x'.repeat(32));
    assert.equal(printer.full, true);
    let resumed = false;
    printer.whenDrained(() => (resumed = true));
    assert.equal(resumed, false);
    const drained = new Promise<void>((resolve) => out.once('drain', () => resolve()));
    writes.shift()?.();
    await drained;
    assert.equal(resumed, true);
    assert.equal(printer.full, false);
  });

  void it('drain() with a bound gives up on a stalled reader and counts the lines never written on stderr', async () => {
    const printer = new FlowPrinter(stalledStream(), () => undefined);
    for (let i = 0; i < 3; i++) printer.line(`line ${i}`);
    const noted = await capturingStderr(() => printer.drain(10));
    assert.equal(noted, '3 output lines not written: stdout was not being read when the client stopped\n');
  });

  void it('a failed write (EIO: the terminal hung up) marks it broken once, and releases whatever waits for it', async () => {
    const out = stalledStream();
    const errors: string[] = [];
    const printer = new FlowPrinter(out, (error) => errors.push(error.code ?? ''));
    printer.line('x'.repeat(32));
    let resumed = false;
    printer.whenDrained(() => (resumed = true));
    out.destroy(Object.assign(new Error('write EIO'), { code: 'EIO' }));
    await new Promise((resolve) => out.once('close', resolve));
    assert.deepEqual(errors, ['EIO']);
    assert.equal(resumed, true);
    assert.equal(printer.full, false);
    await printer.drain();
  });
});
