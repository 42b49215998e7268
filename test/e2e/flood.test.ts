/**
 * A flooding client of the built program (`--interval 0-0`): its symbols come from the helper
 * thread of the bundled server as far as it keeps up, go to the socket as the lane's own memory
 * (lent until sent), and must be exactly the seeded stream. The same over TLS: tls.test.ts.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { MessageType } from '../../src/protocol/frame.js';
import { RawClient } from '../support/net.js';
import { killAll, spawnListeningServer } from '../support/process.js';
import { assertSeededFlood } from '../support/symbols.js';

after(async () => {
  await killAll();
});

test('a flooding client gets the seeded stream, and the helper thread runs in the bundled server', async () => {
  const chars = { min: 30_000, max: 70_000 };
  const server = await spawnListeningServer('127.0.0.1', 'quiet', ['--seed', '5', '--interval', '0-0', '--chars', `${chars.min}-${chars.max}`]);
  const client = await RawClient.connect(server.port);
  const frames = await client.nextFrames(60, MessageType.symbols, 30_000);
  client.destroy();
  assertSeededFlood(frames, 5, chars);
  server.proc.kill('SIGTERM');
  assert.deepEqual(await server.proc.waitForExit(), { code: 0, signal: null }, server.proc.describe());
  assert.doesNotMatch(server.proc.err.text, /helper/, 'no warning about the helper thread');
});
