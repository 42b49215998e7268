import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MessageType } from '../../src/protocol/frame.js';
import { assertChunk, TestServer } from '../support/net.js';

const CHUNKS = 6;

interface Stream {
  readonly chunks: string[];
  readonly sleeps: number[];
}

/** The first chunks of the first two connections, connected one after the other. */
async function streamsOf(server: TestServer): Promise<[Stream, Stream]> {
  const first = await server.connect();
  // Streams follow accept order: the second connection waits until the first is accepted.
  await server.waitForEvent('accepted', { client: first });
  const second = await server.connect();
  const read = async (client: typeof first): Promise<Stream> => {
    const frames = await client.nextFrames(CHUNKS, MessageType.symbols);
    for (const frame of frames) assertChunk(frame, server.config);
    return { chunks: frames.map((frame) => frame.content.toString('latin1')), sleeps: frames.map((frame) => frame.header.sleep_time as number) };
  };
  return Promise.all([read(first), read(second)]);
}

void describe('--seed', () => {
  const servers: TestServer[] = [];
  const start = async (seed: number): Promise<TestServer> => {
    const server = await TestServer.start({ seed, interval: { min: 0.01, max: 0.04 }, chars: { min: 1, max: 20 } });
    servers.push(server);
    return server;
  };
  let same: [[Stream, Stream], [Stream, Stream]];
  let other: [Stream, Stream];
  before(async () => {
    const [a, b, c] = await Promise.all([start(42), start(42), start(43)]);
    const [streamsA, streamsB, streamsC] = await Promise.all([streamsOf(a), streamsOf(b), streamsOf(c)]);
    same = [streamsA, streamsB];
    other = streamsC;
  });
  after(() => Promise.all(servers.map((server) => server.stop())));

  void it('gives the first connection the same chunks and sleep_times on two servers with the same seed', () => {
    assert.deepEqual(same[0][0], same[1][0]);
  });

  void it('gives the second connection the same stream too, and one of its own', () => {
    assert.deepEqual(same[0][1], same[1][1]);
    assert.notDeepEqual(same[0][0].chunks, same[0][1].chunks);
  });

  void it('gives a different stream with a different seed', () => {
    assert.notDeepEqual(other[0].chunks, same[0][0].chunks);
    assert.notDeepEqual(other[0].sleeps, same[0][0].sleeps);
  });
});
