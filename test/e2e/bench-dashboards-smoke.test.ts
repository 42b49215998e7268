import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import type { ScaleResult } from '../../bench/scenarios/scale.js';

const BENCH = fileURLToPath(new URL('../../bench/run.js', import.meta.url));

// A short run of `scale --dashboards`, so that the measurement of what dashboards cost cannot rot.
test('scale --dashboards: windows without and with dashboards open, every dashboard fed, every answer right', async () => {
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [BENCH, 'scale', '--smoke', '--no-bare', '--dashboards', '2', '--hold', '4'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (data: Buffer) => (out += data.toString()));
    child.stderr.on('data', (data: Buffer) => (err += data.toString()));
    child.on('exit', (exit) => resolve({ code: exit, stdout: out, stderr: err }));
  });
  assert.equal(code, 0, `${stdout}\n${stderr}`);
  const file = /^full results: (.+)$/m.exec(stdout)?.[1];
  assert.ok(file !== undefined, stdout);
  const { scale } = JSON.parse(readFileSync(file, 'utf8')) as { scale: ScaleResult };
  const comparison = scale.dashboards;
  assert.ok(comparison !== undefined, stdout);
  assert.deepEqual([comparison.without.windows, comparison.with.windows], [1, 1]);
  assert.ok(comparison.without.chunks > 0 && comparison.with.chunks > 0, JSON.stringify(comparison));
  assert.equal(comparison.received.viewers, 2);
  assert.equal(comparison.received.errors, 0);
  assert.ok(comparison.received.events >= 2 && comparison.received.connzPolls >= 2, JSON.stringify(comparison.received));
  assert.equal(scale.answersWrong, 0);
});
