/**
 * A start that fails gives back everything it took: when the metrics listener cannot be opened,
 * the clients' listener, already open, is closed again, and the port is free for the next try.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { after, describe, test } from 'node:test';
import { DEFAULT_SERVER_CONFIG } from '../../src/server/config.js';
import type { ServerEvent } from '../../src/server/events.js';
import { startMonitor } from '../../src/monitor/index.js';
import { ListenError } from '../../src/server/listen-error.js';
import { startServer } from '../../src/server/server.js';

const opened: Server[] = [];
after(() => {
  for (const server of opened) server.close();
});

async function listen(port = 0): Promise<Server> {
  const server = createServer();
  opened.push(server);
  server.listen(port, '127.0.0.1');
  await Promise.race([once(server, 'listening'), once(server, 'error').then(([error]) => Promise.reject(error as Error))]);
  return server;
}

const portOf = (server: Server): number => (server.address() as { port: number }).port;

describe('a failed start', () => {
  test('a metrics port in use: the start rejects with EADDRINUSE and the clients port is released', async () => {
    const metricsHolder = await listen();
    // A port known to be free, so that it can be taken again afterwards.
    const probe = await listen();
    const port = portOf(probe);
    await new Promise((resolve) => probe.close(resolve));

    const events: ServerEvent[] = [];
    const config = { ...DEFAULT_SERVER_CONFIG, host: '127.0.0.1', port, metrics: { host: '127.0.0.1', port: portOf(metricsHolder) } };
    await assert.rejects(startServer(config, (event) => events.push(event), { monitor: startMonitor }), (error: unknown) => {
      assert.ok(error instanceof ListenError, String(error));
      assert.deepEqual([error.listener, error.code, error.port], ['metrics', 'EADDRINUSE', portOf(metricsHolder)]);
      return true;
    });
    assert.deepEqual(events.map((event) => event.type), ['listening'], 'the clients listener had opened');

    // The port the server had is free again: listening on it succeeds.
    const again = await listen(port);
    assert.equal(portOf(again), port);
  });
});
