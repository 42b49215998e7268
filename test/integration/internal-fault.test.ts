import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { encodeProxyHeader } from '../../src/protocol/proxy-header.js';
import type { ServerConfig } from '../../src/server/config.js';
import type { ServerEvent } from '../../src/server/events.js';
import { LOOPBACK_RANGES } from '../../src/transport/address-range.js';
import { makeCertificates, NO_OPENSSL, type TestCertificates } from '../support/certs.js';
import { TestServer, type RawClient, type RawClientOptions } from '../support/net.js';

/**
 * A fault of ours (a bug, not a peer's doing) while serving one connection, planted as an
 * exception thrown from the event sink at each event a connection can emit: it must cost that
 * connection only, reported, the socket dropped, the process and every other client untouched.
 */

/** The events that concern one connection, each with the way to make the victim's happen. */
type ConnectionEventType = Exclude<
  ServerEvent['type'],
  'listening' | 'metrics' | 'web' | 'shutdown' | 'process-error' | 'stats' | 'stopped' | 'internal-error' | 'tls-reloaded' | 'tls-reload-failed' | 'nothing-to-reload'
>;

interface Plant {
  readonly config?: Partial<ServerConfig> | (() => Partial<ServerConfig>);
  /** How the bystander connects, and the victim (plain TCP by default). */
  readonly bystander?: () => RawClientOptions;
  readonly victim?: RawClientOptions;
  /** Makes the victim's event happen; the victim has connected by then, unless refused or dropped at once. */
  readonly provoke: (victim: RawClient, server: TestServer) => Promise<void>;
}

const FLOOD: Partial<ServerConfig> = { interval: { min: 0, max: 0 }, chars: { min: 65_536, max: 65_536 } };
let certs: TestCertificates | undefined;
const tlsConfig = (): Partial<ServerConfig> => ({ tls: { files: (certs as TestCertificates).server, clientAuth: 'none' } });
const PROXY: Partial<ServerConfig> = { proxy: { trusted: LOOPBACK_RANGES } };
const proxied = (port: number): RawClientOptions => {
  const source = { family: 'IPv4', host: '192.0.2.7', port } as const;
  return { proxy: { header: encodeProxyHeader(1, { command: 'proxy', source, destination: { family: 'IPv4', host: '127.0.0.1', port: 65432 } }), source } };
};
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
  'health-check': { config: PROXY, bystander: () => proxied(40001), victim: { proxy: { header: encodeProxyHeader(2, { command: 'local' }) } }, provoke: nothing },
  // Plaintext to the TLS port.
  'tls-error': { config: tlsConfig, bystander: () => ({ tls: { ca: (certs as TestCertificates).read((certs as TestCertificates).ca.cert) } }), provoke: (victim) => victim.request('s') },
};

/** The bystander is the first connection, the victim the second. */
const VICTIM_ID = 2;

void describe('a fault while serving one connection', () => {
  before(async () => {
    if (NO_OPENSSL === false) certs = await makeCertificates();
  });
  after(() => certs?.remove());

  for (const [type, plant] of Object.entries(PLANTS) as [ConnectionEventType, Plant][]) {
    const skip = type === 'tls-error' && NO_OPENSSL;
    void it(`at '${type}': drops that connection only, reports it, and the server carries on`, { skip }, async () => {
      const config = typeof plant.config === 'function' ? plant.config() : plant.config;
      const server = await TestServer.start({ interval: { min: 0.05, max: 0.1 }, ...config });
      try {
        const bystander = await server.connect({ retainSymbols: false, ...plant.bystander?.() });
        await once(bystander.socket, 'data');
        server.onEvent((event) => {
          if (event.type === type && 'peer' in event && event.peer.id === VICTIM_ID) throw new Error(`planted fault at ${type}`);
        });
        const victim = await server.connect({ retainSymbols: false, ...plant.victim });
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
