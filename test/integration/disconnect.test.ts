import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MessageType } from '../../src/protocol/frame.js';
import { encodeClientRequest } from '../../src/protocol/messages.js';
import { TestServer } from '../support/net.js';
import { withTimeout } from '../support/wait.js';

const REQUEST = encodeClientRequest('s');
const HALF = REQUEST.subarray(0, Math.floor(REQUEST.length / 2));

/** Resolves once the server counts `n` connections. */
async function clientsBecome(server: TestServer, n: number): Promise<void> {
  if (server.server.clients === n) return;
  await withTimeout(
    new Promise<void>((resolve) => {
      const stop = server.onEvent((event) => {
        if (event.type === 'closed' && server.server.clients === n) {
          stop();
          resolve();
        }
      });
    }),
    3_000,
    `the server to count ${n} clients (it counts ${server.server.clients})`,
  );
}

void describe('peer disconnects', () => {
  let server: TestServer;
  before(async () => {
    // No chunk flows during these tests: with nothing unread, closing our side sends a FIN, not a reset.
    server = await TestServer.start({ interval: { min: 5, max: 5 } });
  });
  after(() => server.stop());

  void it('a peer that sends half a frame and closes: peer-closed, closed, nothing else', async () => {
    const client = await server.connect();
    await client.write(HALF);
    client.destroy();
    await server.waitForEvent('peer-closed', { client });
    const closed = await server.waitForEvent('closed', { client });
    assert.equal(closed.summary.bytesRead, HALF.length);
    assert.equal(server.eventsOf('protocol-error', client).length, 0);
    await clientsBecome(server, 0);
  });

  void it('a peer that resets the connection mid-frame: closed, with the reset or the end reported', async () => {
    const client = await server.connect();
    await client.write(HALF);
    await server.waitForEvent('accepted', { client });
    client.reset();
    await server.waitForEvent('closed', { client });
    // A reset that lands while our bytes are unread may surface as a plain end-of-stream:
    // which one is the kernel's race, not the server's choice.
    const resets = server.eventsOf('connection-error', client).map((event) => event.error.code);
    const ends = server.eventsOf('peer-closed', client).length;
    assert.ok((resets.length === 1 && resets[0] === 'ECONNRESET') || ends === 1, `reported: resets ${resets.join()}, ends ${ends}`);
    assert.equal(server.eventsOf('protocol-error', client).length, 0);
    await clientsBecome(server, 0);
  });

  void it('a peer that resets right after connecting: connection-error ECONNRESET, closed', async () => {
    const client = await server.connect();
    await server.waitForEvent('accepted', { client });
    client.reset();
    const error = await server.waitForEvent('connection-error', { client });
    assert.equal(error.error.code, 'ECONNRESET');
    await server.waitForEvent('closed', { client });
    await clientsBecome(server, 0);
  });

  void it('many peers leaving at once, each its own way, leave the server serving', async () => {
    const clients = await Promise.all(Array.from({ length: 20 }, () => server.connect()));
    await Promise.all(clients.map((client) => server.waitForEvent('accepted', { client })));
    await Promise.all(
      clients.map(async (client, n) => {
        if (n % 2 === 0) await client.write(n % 4 === 0 ? HALF : REQUEST);
        if (n % 3 === 0) client.reset();
        else if (n % 3 === 1) client.destroy();
        else client.end();
      }),
    );
    await Promise.all(clients.map((client) => server.waitForEvent('closed', { client })));
    await clientsBecome(server, 0);

    const survivor = await server.connect();
    const answer = await survivor.statistics();
    assert.equal(answer.count, 0);
    assert.equal(answer.frame.type, MessageType.statistics);
    assert.equal(server.server.clients, 1);
  });
});
