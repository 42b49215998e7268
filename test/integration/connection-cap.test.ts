import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/protocol/errors.js';
import { MessageType } from '../../src/protocol/frame.js';
import { assertServerHeader, TestServer } from '../support/net.js';

void describe('connection cap', () => {
  let server: TestServer;
  before(async () => {
    server = await TestServer.start({ maxClients: 2, interval: { min: 0.01, max: 0.03 } });
  });
  after(() => server.stop());

  void it('turns away a third connection with ERR_SERVER_FULL while the first two keep their chunks', async () => {
    const first = await server.connect();
    const second = await server.connect();
    await server.waitForEvent('accepted', { client: first });
    await server.waitForEvent('accepted', { client: second });
    assert.equal(server.server.clients, 2);

    const third = await server.connect();
    const error = await third.nextFrame(MessageType.error);
    assertServerHeader(error, MessageType.error);
    assert.match(error.content.toString('latin1'), new RegExp(`^${ErrorCode.serverFull}: `));
    await third.waitClosed();
    assert.ok(third.endedByPeer, 'the server ended the connection');
    assert.equal(third.framesReceived, 1, 'the error frame is the only frame');
    const rejected = await server.waitForEvent('rejected', { client: third });
    assert.equal(rejected.error.code, ErrorCode.serverFull);
    assert.equal(server.eventsOf('accepted', third).length, 0);

    // The two served clients go on: chunks after the rejection, and exact statistics.
    for (const client of [first, second]) {
      client.clearQueue();
      const [later] = await client.nextFrames(2, MessageType.symbols);
      assert.ok(later !== undefined && later.at > error.at, 'a chunk came after the rejection');
      const answer = await client.statistics();
      assert.equal(answer.count, answer.receivedSinceLast);
    }
    assert.equal(server.server.clients, 2);

    // A place freed is a place taken.
    first.end();
    await server.waitForEvent('closed', { client: first });
    const fourth = await server.connect();
    await server.waitForEvent('accepted', { client: fourth });
    await fourth.nextFrame(MessageType.symbols);
    assert.equal(server.server.clients, 2);
  });
});
