import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import type { ServerConfig } from '../../src/server/config.js';
import type { ServerEvent } from '../../src/server/events.js';
import { TestServer, type RawClient } from '../support/net.js';

/**
 * A fault of ours (a bug, not a peer's doing) while serving one connection, planted as an
 * exception thrown from the event sink at each event a connection can emit: it must cost that
 * connection only, reported, the socket dropped, the process and every other client untouched.
 */

/** The events that concern one connection, each with the way to make the victim's happen. */
type ConnectionEventType = Exclude<ServerEvent['type'], 'listening' | 'metrics' | 'web' | 'shutdown' | 'process-error' | 'stats' | 'stopped' | 'internal-error'>;

interface Plant {
  readonly config?: Partial<ServerConfig>;
  /** Makes the victim's event happen; the victim has connected by then, unless refused or dropped at once. */
  readonly provoke: (victim: RawClient, server: TestServer) => Promise<void>;
}

const FLOOD: Partial<ServerConfig> = { interval: { min: 0, max: 0 }, chars: { min: 65_536, max: 65_536 } };
const nothing = (): Promise<void> => Promise.resolve();
const act = (step: () => unknown): Promise<void> => {
  step();
  return Promise.resolve();
};

// Every connection event is listed: the type system rejects a table that forgets one.
const PLANTS: { readonly [K in ConnectionEventType]: Plant } = {
  accepted: { provoke: nothing },
  rejected: { config: { maxClients: 1 }, provoke: nothing },
  scheduled: { provoke: nothing },
  chunk: { provoke: nothing },
  request: { provoke: (victim) => victim.request('s') },
  statistics: { provoke: (victim) => victim.request('s') },
  'protocol-error': { provoke: (victim) => victim.request('x') },
  blocked: { config: FLOOD, provoke: (victim) => act(() => victim.socket.pause()) },
  unblocked: {
    config: FLOOD,
    provoke: async (victim, server) => {
      victim.socket.pause();
      await server.waitForEvent('blocked', { client: victim });
      victim.socket.resume();
    },
  },
  'peer-closed': { provoke: (victim) => act(() => victim.socket.end()) },
  'connection-error': { config: FLOOD, provoke: (victim) => act(() => victim.socket.resetAndDestroy()) },
  closed: { provoke: (victim) => act(() => victim.socket.destroy()) },
};

/** The bystander is the first connection, the victim the second. */
const VICTIM_ID = 2;

void describe('a fault while serving one connection', () => {
  for (const [type, plant] of Object.entries(PLANTS) as [ConnectionEventType, Plant][]) {
    void it(`at '${type}': drops that connection only, reports it, and the server carries on`, async () => {
      const server = await TestServer.start({ interval: { min: 0.05, max: 0.1 }, ...plant.config });
      try {
        const bystander = await server.connect({ retainSymbols: false });
        await once(bystander.socket, 'data');
        server.onEvent((event) => {
          if (event.type === type && 'peer' in event && event.peer.id === VICTIM_ID) throw new Error(`planted fault at ${type}`);
        });
        const victim = await server.connect({ retainSymbols: false });
        await plant.provoke(victim, server);

        const fault = await server.waitForEvent('internal-error');
        assert.equal(fault.error.message, `planted fault at ${type}`);
        assert.equal(fault.peer.id, VICTIM_ID);
        // A victim that stopped reading sees the end only once it reads again.
        victim.socket.resume();
        await victim.waitClosed();

        // Everyone else is served as before, statistics exact.
        const answer = await bystander.statistics();
        assert.equal(answer.count, answer.receivedSinceLast);
        assert.equal(server.server.stats().internalErrors, 1);
        assert.equal(server.server.clients, 1);
      } finally {
        await server.stop();
      }
    });
  }

  void it('a fault in reporting the fault still drops only that connection', async () => {
    const server = await TestServer.start({ interval: { min: 0.05, max: 0.1 } });
    try {
      const bystander = await server.connect();
      server.onEvent((event) => {
        if ((event.type === 'request' || event.type === 'internal-error') && event.peer.id === VICTIM_ID) throw new Error('planted fault');
      });
      const victim = await server.connect();
      await victim.request('s');
      await victim.waitClosed();
      await server.waitForEvent('closed', { client: victim });
      const answer = await bystander.statistics();
      assert.equal(answer.count, answer.receivedSinceLast);
      assert.equal(server.server.clients, 1);
    } finally {
      await server.stop();
    }
  });
});
