/**
 * deploy/: the systemd unit passes `systemd-analyze verify` (where it runs), its stop timeout is
 * above the example's shutdown timeout, and the example environment is one the real server
 * starts with (only the addresses changed, to loopback and free ports, and one worker).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ChildProc, killAll } from '../support/process.js';
import { SERVER_BIN } from '../support/programs.js';

const deploy = (name: string): string => fileURLToPath(new URL(`../../../deploy/${name}`, import.meta.url));
const UNIT = deploy('multi-socket-server.service');
const ENV = deploy('multi-socket-server.env');

const NO_SYSTEMD_ANALYZE: string | false = spawnSync('systemd-analyze', ['--version']).status === 0 ? false : 'systemd-analyze is not installed (apt-get install systemd)';

/** `KEY=value` lines, comments and blank lines left out. */
function environmentFile(path: string): Map<string, string> {
  const lines = readFileSync(path, 'utf8').split('\n').filter((line) => /^[A-Z_]+=/.test(line));
  return new Map(lines.map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]));
}

after(async () => {
  await killAll();
});

void describe('deploy/', () => {
  void test('systemd-analyze verify accepts the unit', { skip: NO_SYSTEMD_ANALYZE }, () => {
    const run = spawnSync('systemd-analyze', ['verify', UNIT], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
    assert.equal(run.stderr.trim(), '');
  });

  void test('the unit stops with SIGTERM, waits longer than the shutdown timeout, reloads with SIGHUP', () => {
    const unit = readFileSync(UNIT, 'utf8');
    const setting = (key: string): string => unit.match(new RegExp(`^${key}=(.*)$`, 'm'))?.[1] ?? '';
    assert.equal(setting('Type'), 'simple');
    assert.equal(setting('KillSignal'), 'SIGTERM');
    assert.equal(setting('ExecReload'), '/bin/kill -HUP $MAINPID');
    assert.equal(setting('EnvironmentFile'), '/etc/multi-socket-server.env');
    assert.ok(Number(setting('LimitNOFILE')) > Number(environmentFile(ENV).get('MULTI_SOCKET_MAX_CLIENTS')));
    assert.ok(Number(setting('TimeoutStopSec')) > Number(environmentFile(ENV).get('MULTI_SOCKET_SHUTDOWN_TIMEOUT')));
  });

  void test('the server starts with the example environment, and stops on SIGTERM', async () => {
    const env = environmentFile(ENV);
    assert.ok(env.size >= 10, 'the example sets the options it explains');
    for (const [key, value] of Object.entries({ MULTI_SOCKET_HOST: '127.0.0.1', MULTI_SOCKET_PORT: '0', MULTI_SOCKET_METRICS: '127.0.0.1:0', MULTI_SOCKET_WORKERS: '1', MULTI_SOCKET_PROXY_TRUSTED: '127.0.0.1/32' })) {
      assert.ok(env.has(key), key);
      env.set(key, value);
    }
    const server = new ChildProc('server', 'env', [...[...env].map(([key, value]) => `${key}=${value}`), process.execPath, SERVER_BIN]);
    await server.waitForLine(/^metrics on http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    server.kill('SIGTERM');
    assert.deepEqual(await server.waitForExit(), { code: 0, signal: null });
  });
});
