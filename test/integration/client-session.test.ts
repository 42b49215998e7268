/**
 * The client's session (src/client/client.ts) run in-process against a fake server, with keys
 * from a stream: what it emits, in order, where the timing of a key against the connection
 * matters.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, describe, test } from 'node:test';
import { runClient } from '../../src/client/client.js';
import { DEFAULT_CLIENT_CONFIG } from '../../src/client/config.js';
import { UNBOUNDED_OUTPUT, type ClientEvent } from '../../src/client/events.js';
import { FakeServer, chunk } from '../support/fake-server.js';
import { withTimeout } from '../support/wait.js';

const fakes: FakeServer[] = [];

after(async () => {
  await Promise.all(fakes.map((fake) => fake.stop()));
});

describe('client session', () => {
  test('q before the connection is up: it ends, and no closing line nor hint follows from a connection that came late', async () => {
    const fake = await FakeServer.start(({ socket }) => socket.write(chunk('abc')));
    fakes.push(fake);
    const events: ClientEvent[] = [];
    const stdin = new PassThrough();
    const client = runClient({ ...DEFAULT_CLIENT_CONFIG, host: '127.0.0.1', port: fake.port }, { stdin, emit: (event) => events.push(event), output: UNBOUNDED_OUTPUT });
    // Read on the next tick, before any socket event: the connection is surely not up yet.
    stdin.write('q');
    assert.equal(await withTimeout(client.done, 3_000, 'the client to end'), 0);
    assert.deepEqual(
      events.map((event) => event.type),
      ['starting', 'key'],
    );
  });
});
