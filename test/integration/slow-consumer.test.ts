import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/protocol/errors.js';
import { MessageType } from '../../src/protocol/frame.js';
import { isAbout, TestServer, type RawClient } from '../support/net.js';

const SLOW_CLIENT_TIMEOUT_MS = 500;
const MiB = 1024 * 1024;

/** Bytes and symbols the server handed to one client's socket, counted from the 'chunk' events. */
function countSent(server: TestServer, client: RawClient): { bytes: number; symbols: number; stop: () => void } {
  const sent = {
    bytes: 0,
    symbols: 0,
    stop: server.onEvent((event) => {
      if (event.type === 'chunk' && isAbout(event, client)) {
        sent.bytes += event.frameBytes;
        sent.symbols += event.content.length;
      }
    }),
  };
  return sent;
}

void describe('slow consumers', () => {
  let server: TestServer;
  before(async () => {
    // Chunk events carry 60 kB each: counted on the fly, not kept.
    server = await TestServer.start(
      { chars: { min: 60_000, max: 60_000 }, interval: { min: 0, max: 0 }, slowClientTimeoutMs: SLOW_CLIENT_TIMEOUT_MS },
      { unrecorded: ['chunk', 'scheduled'] },
    );
  });
  after(() => server.stop());

  void it('holds a client that never reads to a bounded queue, then drops it with ERR_SLOW_CONSUMER', async () => {
    const client = await server.connect({ retainSymbols: false });
    client.pause();
    const sent = countSent(server, client);
    const error = await server.waitForEvent('protocol-error', { client, timeoutMs: 5_000 });
    sent.stop();
    assert.equal(error.error.code, ErrorCode.slowConsumer);

    const blocked = server.eventsOf('blocked', client);
    assert.ok(blocked.length > 0, 'the server saw the client blocked');
    for (const event of blocked) assert.ok(event.queuedBytes < MiB, `${event.queuedBytes} bytes queued in the server`);
    const lastBlocked = blocked.at(-1)!;
    const waited = error.at - lastBlocked.at;
    assert.ok(waited >= SLOW_CLIENT_TIMEOUT_MS - 20, `dropped ${waited.toFixed(0)} ms after it blocked`);
    // What the server wrote is bounded by the system's socket buffers, not by how long it ran.
    assert.ok(sent.bytes < 64 * MiB, `${(sent.bytes / MiB).toFixed(1)} MiB handed to a client that reads nothing`);

    // Reading again, the client finds everything it was sent, then the reason it is dropped.
    client.resume();
    const frame = await client.nextFrame(MessageType.error);
    assert.match(frame.content.toString('latin1'), new RegExp(`^${ErrorCode.slowConsumer}: `));
    await client.waitClosed();
    assert.equal(client.symbolsReceived, sent.symbols);
    await server.waitForEvent('closed', { client });
  });

  void it('keeps a client that pauses for less than the timeout, losing nothing', async () => {
    const client = await server.connect({ retainSymbols: false });
    client.pause();
    const sent = countSent(server, client);
    const mark = server.events.length;
    await server.waitForEvent('blocked', { client, since: mark });
    // Stays paused for half the slow-client timeout: the server must wait, not drop it.
    await delay(SLOW_CLIENT_TIMEOUT_MS / 2);
    const resumedAt = server.events.length;
    client.resume();
    await server.waitForEvent('unblocked', { client, since: resumedAt });

    let statistics: number | undefined;
    const stopStatistics = server.onEvent((event) => {
      if (event.type === 'statistics' && isAbout(event, client)) statistics ??= sent.symbols;
    });
    const answer = await client.statistics(5_000);
    stopStatistics();
    sent.stop();
    assert.equal(answer.count, answer.receivedSinceLast, 'the answer counts what the client received');
    assert.equal(answer.count, statistics, 'the answer counts every symbol the server sent before it');
    assert.ok(answer.count >= 60_000);
    assert.equal(client.isClosed, false);
    assert.equal(server.eventsOf('protocol-error', client).length, 0);
  });
});
