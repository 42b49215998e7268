/**
 * The monitor of `--workers N`, through the built program: the primary serves the whole
 * server's figures, gathered from every worker over the cluster's channel, and says it is not
 * ready from the moment its drain begins.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import type { Connz, Figures } from '../../src/monitor/figures.js';
import { MessageType } from '../../src/protocol/frame.js';
import { EventReader, fetchJson, fetchText } from '../support/http-client.js';
import { RawClient } from '../support/net.js';
import { FAST, killAll, spawnServer } from '../support/process.js';

after(async () => {
  await killAll();
});

/** The processes `pid` started (its workers). */
function childrenOf(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
}

test('with --workers 2 the primary serves the whole server: /varz added up, /connz merged, /events per worker, /readyz 503 once the drain begins', async () => {
  const server = spawnServer(['127.0.0.1', '0', 'quiet', '--workers', '2', '--metrics', '127.0.0.1:0', '--shutdown-timeout', '5', ...FAST]);
  const port = Number((await server.waitForLine(/^listening on \('127\.0\.0\.1', (\d+)\)$/))[1]);
  const [, metrics = ''] = await server.waitForLine(/^metrics on (http:\/\/\S+)\/metrics$/);
  const clients: RawClient[] = [];
  // One after another: node:cluster deals them to the workers in turn.
  for (let i = 0; i < 4; i++) {
    const client = await RawClient.connect(port);
    await client.nextFrame(MessageType.symbols);
    clients.push(client);
  }

  const varz = (await fetchJson<Record<string, unknown>>(`${metrics}/varz`)).body;
  assert.deepEqual(
    { clients: varz['clients'], accepted: varz['accepted'], workers: varz['workers'], transports: varz['transports'], ready: varz['ready'] },
    { clients: 4, accepted: 4, workers: 2, transports: { tcp: 4, ws: 0 }, ready: true },
  );
  assert.ok((varz['chunks'] as number) >= 4);

  const connz = (await fetchJson<Connz>(`${metrics}/connz`)).body;
  assert.equal(connz.total, 4);
  assert.deepEqual(new Set(connz.connections.map((c) => c.port)), new Set(clients.map((client) => client.localPort)));
  assert.deepEqual(new Set(connz.connections.map((c) => c.worker)), new Set([1, 2]), 'each connection with the worker serving it');
  const page = (await fetchJson<Connz>(`${metrics}/connz?offset=3&limit=1&sort=symbols`)).body;
  assert.deepEqual({ total: page.total, num: page.num_connections }, { total: 4, num: 1 });
  const bySymbols = (await fetchJson<Connz>(`${metrics}/connz?sort=symbols`)).body.connections.map((c) => c.symbols);
  assert.deepEqual(bySymbols, [...bySymbols].sort((a, b) => b - a), 'biggest first across the workers');

  // The sampler asks the workers once a second; a sample with both of them and all the clients comes.
  const stream = new EventReader(`${metrics}/events`);
  let figures: Figures | undefined;
  for (let n = 1; n <= 6 && (figures?.workers?.length !== 2 || figures.clients !== 4 || figures.per_second.chunks === 0); n++) {
    figures = JSON.parse((await stream.waitForEvents(n))[n - 1]?.data ?? 'null') as Figures;
  }
  assert.ok(figures !== undefined && figures.workers !== null, JSON.stringify(figures));
  assert.deepEqual(figures.workers.map((w) => w.worker), [1, 2]);
  assert.deepEqual(new Set(figures.workers.map((w) => w.pid)), new Set(childrenOf(server.pid)), "the workers' own pids");
  assert.equal(figures.workers.reduce((sum, w) => sum + w.clients, 0), 4);
  assert.equal(figures.clients, 4);
  assert.deepEqual(figures.transports, { tcp: 4, ws: 0 });
  assert.ok(figures.per_second.chunks > 0 && figures.lateness_ms.count > 0, JSON.stringify(figures));
  assert.ok(figures.process.rss_bytes > figures.workers.reduce((sum, w) => sum + w.process.rss_bytes, 0), "the workers' memory and the primary's");

  // Clients that do not read their shutdown frame yet keep the drain going; one that does
  // tells the test the drain has begun.
  const [watcher, ...draining] = clients as [RawClient, ...RawClient[]];
  for (const client of draining) client.pause();
  assert.equal((await fetchText(`${metrics}/readyz`)).status, 200);
  server.kill('SIGTERM');
  await watcher.nextFrame(MessageType.shutdown, 5_000);
  assert.deepEqual(await fetchJson(`${metrics}/readyz`), { status: 503, body: { status: 'unavailable', reason: 'the server is shutting down' } });
  assert.equal((await fetchText(`${metrics}/healthz`)).status, 200);
  for (const client of draining) client.resume();
  assert.deepEqual(await server.waitForExit(), { code: 0, signal: null }, server.describe());
  await stream.ended;
});
