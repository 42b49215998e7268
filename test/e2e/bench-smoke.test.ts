import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import type { IsolationResult } from '../../bench/scenarios/isolation.js';

const BENCH = fileURLToPath(new URL('../../bench/run.js', import.meta.url));
const FAULTS = fileURLToPath(new URL('../../bench/faults.js', import.meta.url));

/** Runs a benchmark to its end; the benchmarks stop by themselves and exit 1 on any wrong figure. */
function run(script: string, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

// Short runs of the benchmarks, so that they cannot rot between the hand-run full ones.
void describe('benchmark smoke runs', () => {
  void it('load generator: a few hundred checking clients against the real server, every answer right', async () => {
    const { code, stdout, stderr } = await run(BENCH, ['scale', '--smoke', '--no-bare']);
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.match(stdout, /clients held\s+300 /);
    assert.match(stdout, /statistics answers checked \/ wrong\s+[1-9]\d* \/ 0/);
  });

  void it('load generator over WebSocket: the web port beside TCP, every answer right on both', async () => {
    const { code, stdout, stderr } = await run(BENCH, ['scale', '--transport', 'ws', '--smoke']);
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.match(stdout, /scale: 300 WebSocket clients/);
    assert.equal(stdout.match(/clients held\s+300 /g)?.length, 2, stdout);
    assert.equal(stdout.match(/statistics answers checked \/ wrong\s+[1-9]\d* \/ 0/g)?.length, 2, stdout);
    assert.match(stdout, /CPU per chunk, WebSocket \/ TCP\s+\d/);
  });

  void it('isolation: a reading client beside clients that never read, every answer right, every non-reader cut off', async () => {
    const { code, stdout, stderr } = await run(BENCH, ['isolation', '--smoke']);
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    const file = /^full results: (.+)$/m.exec(stdout)?.[1];
    assert.ok(file !== undefined, stdout);
    const { isolation } = JSON.parse(readFileSync(file, 'utf8')) as { isolation: IsolationResult };
    assert.ok(isolation.alone.count >= 2 && isolation.beside.count >= 2, `the good client was answered in both windows: ${JSON.stringify(isolation)}`);
    assert.equal(isolation.answersWrong, 0);
    assert.equal(isolation.goodClientCut, false);
    assert.equal(isolation.nonReaders.cutOff, isolation.nonReaders.opened);
    assert.ok(Number.isFinite(isolation.ratio), `ratio ${isolation.ratio}`);
  });

  void it('fault benchmark: hostile connections against the real server, no crash, nothing left behind', async () => {
    const { code, stdout, stderr } = await run(FAULTS, ['--hostile', '150', '--concurrency', '30', '--bystanders', '5']);
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.match(stdout, /server crashes\s+0/);
    assert.match(stdout, /statistics answers wrong\s+0/);
    assert.match(stdout, /handles back to baseline\s+yes/);
  });
});
