/**
 * The pseudo-terminal the interactive tests run programs in: a program's output is all read
 * before its exit is reported, even when it prints and exits at once while the machine is busy.
 * (Guards PtyProc in test/support/process.ts: read through node-pty alone, the end of such a
 * burst was lost now and then, and a test waiting for a program's last line failed.)
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { killAll, PtyProc } from '../support/process.js';

after(async () => {
  await killAll();
});

const PROGRAMS = 30;
const LINES = 300;

/** Waits a little (the programs start at once, so they print while others start), prints its lines one write each, and exits. */
function burst(n: number): PtyProc {
  const script = `
    const { writeSync } = require('node:fs');
    setTimeout(() => {
      for (let i = 0; i < ${LINES}; i++) writeSync(1, 'line ' + i + ' of ${n}\\n');
      writeSync(1, 'last line of ${n}\\n');
      process.exit(${n % 3});
    }, ${40 + (n % 7) * 20});`;
  return new PtyProc(`burst ${n}`, process.execPath, ['-e', script]);
}

void describe('a program in a pseudo-terminal', () => {
  void it(`that prints ${LINES} lines and exits at once has every line read before its exit is reported (${PROGRAMS} at a time)`, async () => {
    const programs = Array.from({ length: PROGRAMS }, (_, n) => burst(n));
    const exits = await Promise.all(programs.map((program) => program.waitForExit(20_000)));
    programs.forEach((program, n) => {
      assert.deepEqual(exits[n], { code: n % 3, signal: null }, program.describe());
      const lines = program.out.lines.filter((line) => line !== '');
      assert.equal(lines.length, LINES + 1, `${program.name}: ${lines.length} lines, the last ${JSON.stringify(lines.at(-1))}`);
      assert.equal(lines.at(-1), `last line of ${n}`);
    });
  });
});
