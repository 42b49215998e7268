/**
 * `--reconnect`: a client that loses its server tries again, with backoff, saying so each
 * time, and picks the stream up again when the server is back; with a bound on attempts it
 * gives up with exit code 1.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { FAST, freePort, killAll, spawnClient, spawnServer } from '../support/process.js';

const RECONNECTING = (port: number, attempt: number): RegExp =>
  new RegExp(`^reconnecting to \\('127\\.0\\.0\\.1', ${port}\\) in \\d+\\.\\d s \\(attempt ${attempt}( of \\d+)?\\)$`);

after(async () => {
  await killAll();
});

void describe('client --reconnect', { concurrency: true }, () => {
  void test('waits for a server that is not there yet, then for one that went away and came back', async () => {
    const port = await freePort();
    const client = spawnClient(['127.0.0.1', String(port), 'user', '--reconnect', '--reconnect-delay', '0.05-0.2']);
    await client.waitForLine(/^error: cannot connect to \('127\.0\.0\.1', \d+\): \[Errno 111\] Connection refused \(nothing listens on port \d+ there\)$/);
    await client.waitForLine(RECONNECTING(port, 1));
    await client.waitForLine(RECONNECTING(port, 2));

    const first = spawnServer(['127.0.0.1', String(port), 'user', ...FAST]);
    await first.waitForLine(/^listening on /);
    await client.waitForLine(/^Press 's' for statistics or 'q' to quit\.$/);
    await client.waitForLine(/^got response: b'[A-Za-z0-9]+'$/);

    // A server shutdown is a lost connection too: the client stays and tries again.
    first.kill('SIGTERM');
    assert.deepEqual(await first.waitForExit(), { code: 0, signal: null });
    await client.waitForLine(/^server shutting down \(SIGTERM\)$/);
    await client.waitForLine(RECONNECTING(port, 1));
    assert.equal(client.running, true);

    const second = spawnServer(['127.0.0.1', String(port), 'user', ...FAST]);
    await second.waitForLine(/^listening on /);
    await client.waitForLine(/^Press 's' for statistics or 'q' to quit\.$/);
    client.write('s');
    // A new connection, a new count: the answer counts only what this connection delivered.
    await client.waitForLine(/^got response: b'Statistics: \d+ symbols was delivered'$/);
    client.write('q');
    assert.deepEqual(await client.waitForExit(), { code: 0, signal: null });
    second.kill('SIGTERM');
  });

  void test('gives up after --reconnect-attempts failures in a row, with exit code 1', async () => {
    const port = await freePort();
    const client = spawnClient(['127.0.0.1', String(port), 'quiet', '--reconnect', '--reconnect-delay', '0.02-0.05', '--reconnect-attempts', '2'], 'ignore');
    await client.waitForLine(RECONNECTING(port, 1));
    await client.waitForLine(RECONNECTING(port, 2));
    assert.deepEqual(await client.waitForExit(), { code: 1, signal: null });
    assert.equal(client.out.lines.filter((line) => line.startsWith('reconnecting')).length, 2);
  });

  void test('--reconnect-delay without --reconnect is a usage error', async () => {
    const client = spawnClient(['127.0.0.1', '1', 'user', '--reconnect-delay', '1-2'], 'ignore');
    assert.deepEqual(await client.waitForExit(), { code: 2, signal: null });
    await client.err.waitForLine(/--reconnect-delay and --reconnect-attempts need --reconnect$/);
  });
});
