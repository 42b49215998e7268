import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/protocol/errors.js';
import { MessageType } from '../../src/protocol/frame.js';
import { encodeClientRequest } from '../../src/protocol/messages.js';
import { assertServerHeader, TestServer, type RawClient } from '../support/net.js';

const FRAME_TIMEOUT_MS = 300;
const REQUEST = encodeClientRequest('s');
const HALF = Math.floor(REQUEST.length / 2);

async function assertCutForTimeout(server: TestServer, client: RawClient, startedAt: number): Promise<void> {
  const error = await client.nextFrame(MessageType.error);
  const elapsed = error.at - startedAt;
  assertServerHeader(error, MessageType.error);
  assert.match(error.content.toString('latin1'), new RegExp(`^${ErrorCode.frameTimeout}: `));
  assert.ok(elapsed >= FRAME_TIMEOUT_MS - 20, `cut after ${elapsed.toFixed(0)} ms, before the ${FRAME_TIMEOUT_MS} ms timeout`);
  assert.ok(elapsed < FRAME_TIMEOUT_MS + 1_000, `cut only after ${elapsed.toFixed(0)} ms`);
  await client.waitClosed();
  assert.ok(client.endedByPeer, 'the server ended the connection');
  const event = await server.waitForEvent('protocol-error', { client });
  assert.equal(event.error.code, ErrorCode.frameTimeout);
}

void describe('frame timeout', () => {
  let server: TestServer;
  before(async () => {
    server = await TestServer.start({ frameTimeoutMs: FRAME_TIMEOUT_MS, interval: { min: 0.05, max: 0.1 } });
  });
  after(() => server.stop());

  void it('cuts a connection that leaves a frame half sent, and not an idle one', async () => {
    const idle = await server.connect();
    const idleSince = performance.now();
    const stalled = await server.connect();
    const startedAt = performance.now();
    await stalled.write(REQUEST.subarray(0, HALF));
    await assertCutForTimeout(server, stalled, startedAt);

    // The idle connection has been open longer than the frame timeout and is still served.
    assert.ok(performance.now() - idleSince > FRAME_TIMEOUT_MS, 'the idle connection has outlived the frame timeout');
    assert.equal(idle.isClosed, false);
    const answer = await idle.statistics();
    assert.equal(answer.count, answer.receivedSinceLast);
    await idle.nextFrame(MessageType.symbols);
    assert.equal(server.eventsOf('protocol-error', idle).length, 0);
  });

  void it('cuts a connection that trickles a frame too slowly, although bytes keep coming', async () => {
    const trickler = await server.connect();
    const startedAt = performance.now();
    const cut = assertCutForTimeout(server, trickler, startedAt);
    // One byte every 40 ms: the frame would take over 3 s to complete.
    for (const byte of REQUEST) {
      if (trickler.isClosed) break;
      await trickler.write(Buffer.of(byte)).catch(() => undefined);
      await Promise.race([delay(40), trickler.closed]);
    }
    await cut;
    assert.equal(trickler.answers.length, 0);
  });

  void it('gives each frame its own time: two frames each sent in halves within the timeout are both answered', async () => {
    // Frame A begins at 0 and ends at ~180 ms together with the first half of frame B; B ends at
    // ~360 ms. Each frame is in flight ~180 ms, under the timeout, though the two together take longer.
    const client = await server.connect();
    await client.write(REQUEST.subarray(0, HALF));
    await delay(180);
    await client.write(Buffer.concat([REQUEST.subarray(HALF), REQUEST.subarray(0, HALF)]));
    await delay(180);
    const written = await client.write(REQUEST.subarray(HALF)).then(
      () => 'written',
      (error: Error) => error.message,
    );
    const answered = await client.awaitAnswers(2).then(
      (answers) => answers,
      (error: Error) => error.message,
    );
    const errors = server.eventsOf('protocol-error', client).map((event) => `${event.error.code}: ${event.error.message}`);
    assert.deepEqual(errors, [], 'frame B was cut although it had been in flight for less than the timeout');
    assert.equal(written, 'written');
    if (typeof answered === 'string') assert.fail(`no second answer: ${answered}`);
    for (const answer of answered) assert.equal(answer.count, answer.receivedSinceLast);
  });
});
