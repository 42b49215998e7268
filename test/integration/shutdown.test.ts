import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import { MessageType } from '../../src/protocol/frame.js';
import { assertServerHeader, TestServer } from '../support/net.js';
import { withTimeout } from '../support/wait.js';

void describe('shutdown', () => {
  let server: TestServer | undefined;
  after(() => server?.stop());

  void it('tells every client the reason in a shutdown frame, closes them all, then resolves', async () => {
    server = await TestServer.start({ interval: { min: 0.01, max: 0.03 } });
    const clients = await Promise.all(Array.from({ length: 3 }, () => server!.connect()));
    await Promise.all(clients.map((client) => client.nextFrame(MessageType.symbols)));
    assert.equal(server.server.clients, 3);

    const reason = 'maintenance at noon';
    const closing = server.server.close({ reason });
    for (const client of clients) {
      const frame = await client.nextFrame(MessageType.shutdown);
      assertServerHeader(frame, MessageType.shutdown);
      assert.equal(frame.content.toString('latin1'), reason);
      await client.waitClosed();
      assert.ok(client.endedByPeer, `${client.label}: the server ended the connection`);
      assert.equal(client.history.at(-1), frame, `${client.label}: the shutdown frame is the last frame`);
    }
    await withTimeout(closing, 3_000, 'server.close() to resolve');
    assert.equal(server.server.clients, 0);

    const shutdown = await server.waitForEvent('shutdown');
    assert.equal(shutdown.reason, reason);
    assert.equal(shutdown.clients, 3);
    const stopped = await server.waitForEvent('stopped');
    assert.equal(stopped.forced, 0);
    for (const client of clients) await server.waitForEvent('closed', { client });

    // No longer listening.
    const late = connect({ host: '127.0.0.1', port: server.port });
    const [error] = (await withTimeout(once(late, 'error'), 3_000, 'a refused connection')) as [NodeJS.ErrnoException];
    assert.equal(error.code, 'ECONNREFUSED');
  });
});
