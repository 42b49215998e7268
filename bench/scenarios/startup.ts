import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { CLIENT_BIN, SERVER_ARGV } from '../../test/support/programs.js';
import { ServerProcess } from '../lib/server-process.js';
import { median } from './pump.js';

export interface StartupResult {
  readonly runs: number;
  readonly nodeMs: number;
  readonly serverMs: number;
  readonly clientMs: number;
}

/**
 * Time from launch to ready, beside `node -e 0`, interleaved so that machine noise falls on
 * all three alike: the server until its `listening on` line, the client until it is connected
 * (its hint line, printed on connect).
 */
export async function runStartup(options: { runs: number; progress: (line: string) => void }): Promise<StartupResult> {
  const target = await ServerProcess.start({ mode: 'quiet', metrics: false });
  const node: number[] = [];
  const server: number[] = [];
  const client: number[] = [];
  for (let run = 1; run <= options.runs; run++) {
    options.progress(`startup: run ${run} of ${options.runs}`);
    node.push(await timeUntil(['-e', '0'], undefined));
    server.push(await timeUntil([...SERVER_ARGV, '127.0.0.1', '0', 'user'], /listening on/));
    client.push(await timeUntil([CLIENT_BIN, '127.0.0.1', String(target.port), 'user'], /Press 's'/));
  }
  await target.stop();
  return { runs: options.runs, nodeMs: median(node), serverMs: median(server), clientMs: median(client) };
}

/** Milliseconds from spawn until `ready` appears on stdout (or, without one, until exit). */
function timeUntil(args: readonly string[], ready: RegExp | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (data: Buffer) => {
      output += data.toString();
      if (ready?.test(output) === true) {
        resolve(performance.now() - started);
        child.kill();
      }
    });
    child.once('exit', (code) => {
      if (ready === undefined) resolve(performance.now() - started);
      else if (!ready.test(output)) reject(new Error(`exited with ${String(code)} before ready: ${output}`));
    });
  });
}
