import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/protocol/errors.js';
import { MessageType } from '../../src/protocol/frame.js';
import { encodeClientRequest } from '../../src/protocol/messages.js';
import { assertServerHeader, TestServer, type StatisticsAnswer } from '../support/net.js';

void describe('requests', () => {
  let server: TestServer;
  before(async () => {
    server = await TestServer.start({ interval: { min: 0.01, max: 0.03 }, chars: { min: 1, max: 9 } });
  });
  after(() => server.stop());

  for (const request of ['x', 'hello', '', 'ss', 'S']) {
    void it(`answers the unknown request ${JSON.stringify(request)} with an error frame and keeps the connection`, async () => {
      const client = await server.connect();
      await client.request(request);
      const error = await client.nextFrame(MessageType.error);
      assertServerHeader(error, MessageType.error);
      assert.match(error.content.toString('latin1'), new RegExp(`^${ErrorCode.unknownRequest}: `));
      const event = await server.waitForEvent('protocol-error', { client });
      assert.equal(event.error.code, ErrorCode.unknownRequest);

      // Still served: a statistics request is answered exactly and chunks keep coming.
      const answer = await client.statistics();
      assert.equal(answer.count, answer.receivedSinceLast);
      client.clearQueue();
      const later = await client.nextFrame(MessageType.symbols);
      assert.ok(later.index > answer.frame.index);
      assert.equal(client.isClosed, false);
      assert.equal(client.endedByPeer, false);
    });
  }

  void it('answers 200 requests sent in one write, in order, with exact counts', async () => {
    const client = await server.connect();
    await client.nextFrames(3, MessageType.symbols);
    await client.write(Buffer.concat(Array.from({ length: 200 }, () => encodeClientRequest('s'))));
    const answers = await client.awaitAnswers(200);
    assert.equal(answers.length, 200);
    const [first] = answers as [StatisticsAnswer];
    assert.ok(first.count > 0, 'the first answer counts the chunks received before');
    answers.forEach((answer, n) => {
      assertServerHeader(answer.frame, MessageType.statistics);
      assert.equal(answer.frame.content.toString('latin1'), `Statistics: ${answer.count} symbols was delivered`);
      assert.equal(answer.count, answer.receivedSinceLast, `answer #${n + 1}`);
    });
    // The server answered them in the order it read them, one count per answer.
    const reported = server.eventsOf('statistics', client).map((event) => event.count);
    assert.deepEqual(reported, answers.map((answer) => answer.count));
    const last = answers.at(-1) as StatisticsAnswer;
    const received = client.history
      .filter((frame) => frame.type === MessageType.symbols && frame.index < last.frame.index)
      .reduce((sum, frame) => sum + frame.content.length, 0);
    assert.equal(answers.reduce((sum, answer) => sum + answer.count, 0), received);
  });

  void it('decodes a request frame sent one byte at a time', async () => {
    const client = await server.connect();
    await client.nextFrame(MessageType.symbols);
    const mark = server.events.length;
    const request = encodeClientRequest('s');
    for (const byte of request) {
      await client.write(Buffer.of(byte));
      // Paces the bytes so that they travel as separate segments; correctness does not hang on it.
      await delay(1);
    }
    const [answer] = await client.awaitAnswers(1);
    assert.ok(answer !== undefined);
    assert.equal(answer.count, answer.receivedSinceLast);
    assert.equal(server.eventsOf('request', client).length, 1);
    assert.equal(server.events.slice(mark).filter((event) => event.type === 'protocol-error').length, 0);
  });
});
