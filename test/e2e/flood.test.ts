/**
 * A flooding client of the built program (`--interval 0-0`): its symbols come from the helper
 * thread of the bundled server as far as it keeps up, and must be exactly the seeded stream.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { MessageType } from '../../src/protocol/frame.js';
import { DEFAULT_ALPHABET } from '../../src/server/config.js';
import { StreamSource } from '../../src/server/generator.js';
import { RawClient } from '../support/net.js';
import { killAll, spawnListeningServer } from '../support/process.js';

after(async () => {
  await killAll();
});

test('a flooding client gets the seeded stream, and the helper thread runs in the bundled server', async () => {
  const chars = { min: 30_000, max: 70_000 };
  const server = await spawnListeningServer('127.0.0.1', 'quiet', ['--seed', '5', '--interval', '0-0', '--chars', `${chars.min}-${chars.max}`]);
  const client = await RawClient.connect(server.port);
  const frames = await client.nextFrames(60, MessageType.symbols, 30_000);
  client.destroy();
  const expected = new StreamSource(5).next(chars, { min: 0, max: 0 }, DEFAULT_ALPHABET);
  frames.forEach((frame, index) => {
    assert.equal(frame.header.sleep_time, 0);
    // nextWait() first, as the schedule draws it: the wait before each chunk, then the chunk.
    expected.nextWait();
    assert.ok(frame.content.equals(expected.nextChunk()), `chunk ${index + 1} of ${frames.length}`);
  });
  server.proc.kill('SIGTERM');
  assert.deepEqual(await server.proc.waitForExit(), { code: 0, signal: null }, server.proc.describe());
  assert.doesNotMatch(server.proc.err.text, /helper/, 'no warning about the helper thread');
});
