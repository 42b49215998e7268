import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestServer } from '../support/net.js';

/**
 * A fault of ours (a bug, not a peer's doing) while serving one connection: planted here as
 * an exception thrown from the event sink while one client's request is handled. It must cost
 * that connection only: reported, the socket dropped, the process and every other client
 * untouched.
 */
void describe('a fault while serving one connection', () => {
  let server: TestServer;

  before(async () => {
    server = await TestServer.start({ interval: { min: 0.05, max: 0.1 } });
  });

  after(async () => {
    await server.stop();
  });

  void it('drops that connection only, reports it, and the server carries on', async () => {
    const bystander = await server.connect();
    const victim = await server.connect();
    await bystander.nextFrame();
    server.onEvent((event) => {
      if (event.type === 'request' && event.content.toString('latin1') === 'boom') throw new Error('planted fault');
    });

    await victim.request('boom');
    const fault = await server.waitForEvent('internal-error');
    assert.equal(fault.error.message, 'planted fault');
    assert.equal(fault.peer.port, victim.localPort);
    await victim.waitClosed();
    await server.waitForEvent('closed', { client: victim });

    // Everyone else is served as before, statistics exact.
    await bystander.nextFrame();
    const answer = await bystander.statistics();
    assert.equal(answer.count, answer.receivedSinceLast);
    assert.equal(server.server.clients, 1);
    assert.equal(server.server.stats().internalErrors, 1);

    // And new clients too.
    const newcomer = await server.connect();
    await newcomer.nextFrame();
  });
});
