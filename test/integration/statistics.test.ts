import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { MessageType } from '../../src/protocol/frame.js';
import { encodeClientRequest } from '../../src/protocol/messages.js';
import { assertServerHeader, TestServer, type StatisticsAnswer } from '../support/net.js';

const STATISTICS = /^Statistics: (\d+) symbols was delivered$/;

function assertAnswer(answer: StatisticsAnswer): void {
  assertServerHeader(answer.frame, MessageType.statistics);
  const text = answer.frame.content.toString('latin1');
  assert.match(text, STATISTICS);
  assert.equal(text, `Statistics: ${answer.count} symbols was delivered`);
  // The protocol's invariant: the figure is what this client received since the previous answer.
  assert.equal(answer.count, answer.receivedSinceLast, `answer says ${answer.count}, the client received ${answer.receivedSinceLast}`);
}

void describe('statistics with a long interval', () => {
  let server: TestServer;
  before(async () => {
    server = await TestServer.start({ interval: { min: 5, max: 5 } });
  });
  after(() => server.stop());

  void it('answers at once, not when the next chunk is due', async () => {
    const client = await server.connect();
    const sentAt = performance.now();
    const answer = await client.statistics(1_000);
    const elapsed = answer.frame.at - sentAt;
    assert.ok(elapsed < 1_000, `answer took ${elapsed.toFixed(0)} ms; the next chunk is 5 s away`);
    assertAnswer(answer);
    assert.equal(answer.count, 0);
    assert.equal(client.framesReceived, 1, 'no chunk came before the answer');
    const sleep = answer.frame.header.sleep_time as number;
    assert.ok(sleep === 0 || sleep === 5, `sleep_time ${sleep} before any wait has passed`);

    const again = await client.statistics(1_000);
    assertAnswer(again);
    assert.equal(again.count, 0);
  });
});

void describe('statistics with a fast interval', () => {
  let server: TestServer;
  before(async () => {
    server = await TestServer.start({ interval: { min: 0.01, max: 0.03 }, chars: { min: 1, max: 9 } });
  });
  after(() => server.stop());

  void it('reports exactly the symbols received since the previous answer, round after round', async () => {
    const client = await server.connect();
    const answers: StatisticsAnswer[] = [];
    for (let round = 1; round <= 6; round++) {
      await client.nextFrames(round % 3 + 1, MessageType.symbols);
      const answer = await client.statistics();
      assertAnswer(answer);
      assert.ok(answer.count > 0, `round ${round}: chunks were received before asking`);
      // sleep_time on an answer repeats the wait before the last chunk.
      assert.equal(answer.frame.header.sleep_time, answer.lastSleepBefore);
      answers.push(answer);
    }
    const reported = server.eventsOf('statistics', client).map((event) => event.count);
    assert.deepEqual(reported, answers.map((answer) => answer.count));
    const delivered = answers.reduce((sum, answer) => sum + answer.count, 0);
    const last = answers.at(-1) as StatisticsAnswer;
    const receivedBeforeLast = client.history
      .filter((frame) => frame.type === MessageType.symbols && frame.index < last.frame.index)
      .reduce((sum, frame) => sum + frame.content.length, 0);
    assert.equal(delivered, receivedBeforeLast);
  });

  void it('resets the count with each answer: a second request right after the first answers 0', async () => {
    const client = await server.connect();
    await client.nextFrames(3, MessageType.symbols);
    await client.write(Buffer.concat([encodeClientRequest('s'), encodeClientRequest('s')]));
    const [first, second] = (await client.awaitAnswers(2)) as [StatisticsAnswer, StatisticsAnswer];
    assertAnswer(first);
    assertAnswer(second);
    assert.ok(first.count > 0);
    assert.equal(second.frame.index, first.frame.index + 1, 'no chunk between the two answers');
    assert.equal(second.count, 0);
  });
});
