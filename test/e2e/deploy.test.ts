/**
 * deploy/: the systemd unit passes `systemd-analyze verify` (where it runs), its stop timeout is
 * above the example's shutdown timeout, and the example environment is one the real server
 * starts with (only the addresses changed, to loopback and free ports, and one worker). The
 * server gets the same Node options however it is started: its bin, `npm start`, the unit.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ChildProc, killAll } from '../support/process.js';
import { SERVER_ARGV, SERVER_BIN, SERVER_NODE_FLAGS } from '../support/programs.js';

const deploy = (name: string): string => fileURLToPath(new URL(`../../../deploy/${name}`, import.meta.url));
const UNIT = deploy('multi-socket-server.service');
const ENV = deploy('multi-socket-server.env');
const PACKAGE = fileURLToPath(new URL('../../../package.json', import.meta.url));

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

  void test('the bin, npm start and the unit give Node the same options', () => {
    assert.ok(SERVER_NODE_FLAGS.includes('--v8-pool-size=1'), `the bin's first line: ${SERVER_NODE_FLAGS.join(' ')}`);
    const flags = SERVER_NODE_FLAGS.join(' ');
    const { scripts } = JSON.parse(readFileSync(PACKAGE, 'utf8')) as { scripts: Record<string, string> };
    assert.equal(scripts['start'], `node ${flags} dist/bin/multi-socket-server.js`);
    assert.match(readFileSync(UNIT, 'utf8'), new RegExp(`^ExecStart=/usr/bin/node ${flags} /opt/multi-socket-apps/dist/bin/multi-socket-server\\.js$`, 'm'));
    // Run as an installed program is: through its first line, with no node in front.
    const run = spawnSync(SERVER_BIN, ['--help'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
    assert.match(run.stdout, /^usage: multi-socket-server /m);
  });

  void test('the server starts with the example environment, and stops on SIGTERM', async () => {
    const env = environmentFile(ENV);
    assert.ok(env.size >= 10, 'the example sets the options it explains');
    for (const [key, value] of Object.entries({ MULTI_SOCKET_HOST: '127.0.0.1', MULTI_SOCKET_PORT: '0', MULTI_SOCKET_METRICS: '127.0.0.1:0', MULTI_SOCKET_WORKERS: '1', MULTI_SOCKET_PROXY_TRUSTED: '127.0.0.1/32' })) {
      assert.ok(env.has(key), key);
      env.set(key, value);
    }
    const server = new ChildProc('server', 'env', [...[...env].map(([key, value]) => `${key}=${value}`), process.execPath, ...SERVER_ARGV]);
    await server.waitForLine(/^metrics on http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    server.kill('SIGTERM');
    assert.deepEqual(await server.waitForExit(), { code: 0, signal: null });
  });
});
