/**
 * The monitor (`--metrics`) against the real server on port 0: every endpoint's JSON, the
 * paging and sorting of /connz, the SSE stream read by a real HTTP client, the page and its
 * headers, and /readyz failing from the moment a shutdown begins.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Connz, Figures } from '../../src/monitor/figures.js';
import { startMonitor } from '../../src/monitor/index.js';
import { MessageType } from '../../src/protocol/frame.js';
import { DEFAULT_SERVER_CONFIG, type ServerConfig } from '../../src/server/config.js';
import type { ServerEvent } from '../../src/server/events.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { EventReader, fetchJson, fetchText } from '../support/http-client.js';
import { RawClient, type RawClientOptions } from '../support/net.js';
import { withTimeout } from '../support/wait.js';

interface Monitored {
  readonly server: RunningServer;
  readonly url: string;
  readonly events: ServerEvent[];
  readonly clients: RawClient[];
  connect(options?: RawClientOptions): Promise<RawClient>;
  /** Resolves with the first event of `type` the server emits (or has emitted). */
  waitForEvent(type: ServerEvent['type']): Promise<ServerEvent>;
  stop(): Promise<void>;
}

const running = new Set<Monitored>();
after(async () => {
  for (const monitored of running) await monitored.stop();
});

/** The real server with its monitor, both on port 0. */
async function monitored(overrides: Partial<ServerConfig> = {}): Promise<Monitored> {
  const config: ServerConfig = {
    ...DEFAULT_SERVER_CONFIG,
    interval: { min: 0.05, max: 0.1 },
    shutdownTimeoutMs: 2_000,
    ...overrides,
    host: '127.0.0.1',
    port: 0,
    metrics: { host: '127.0.0.1', port: 0 },
  };
  const events: ServerEvent[] = [];
  const waiters = new Set<(event: ServerEvent) => void>();
  const server = await startServer(
    config,
    (event) => {
      events.push(event);
      for (const waiter of waiters) waiter(event);
    },
    { monitor: startMonitor },
  );
  const metrics = events.find((event) => event.type === 'metrics');
  assert.ok(metrics?.type === 'metrics', 'the metrics listener says where it is');
  const clients: RawClient[] = [];
  const result: Monitored = {
    server,
    url: `http://127.0.0.1:${metrics.port}`,
    events,
    clients,
    async connect(options) {
      const client = await RawClient.connect(server.address.port, options);
      clients.push(client);
      return client;
    },
    waitForEvent(type) {
      const past = events.find((event) => event.type === type);
      if (past !== undefined) return Promise.resolve(past);
      let waiter: ((event: ServerEvent) => void) | undefined;
      const next = new Promise<ServerEvent>((resolve) => {
        waiter = (event) => {
          if (event.type === type) resolve(event);
        };
        waiters.add(waiter);
      });
      return withTimeout(next, 5_000, `a '${type}' event`).finally(() => {
        if (waiter !== undefined) waiters.delete(waiter);
      });
    },
    async stop() {
      running.delete(result);
      for (const client of clients) client.destroy();
      await withTimeout(server.close(), 5_000, 'the server to close');
    },
  };
  running.add(result);
  return result;
}

/** Counters by their snake_case names in /varz, one per counter of the server. */
const VARZ_COUNTERS = ['accepted', 'rejected', 'closed', 'chunks', 'symbols', 'statistics_answers', 'blocked', 'errors', 'connection_errors', 'internal_errors'];

describe('the monitor', () => {
  test('/healthz and /readyz say ok while the server serves', async () => {
    const m = await monitored();
    assert.deepEqual(await fetchJson(`${m.url}/healthz`), { status: 200, body: { status: 'ok' } });
    assert.deepEqual(await fetchJson(`${m.url}/readyz`), { status: 200, body: { status: 'ok' } });
  });

  test('/varz: the totals, every counter by its snake_case name, clients by transport', async () => {
    const m = await monitored();
    const clients = await Promise.all([m.connect(), m.connect(), m.connect()]);
    await Promise.all(clients.map((client) => client.nextFrames(2, MessageType.symbols)));
    await clients[0]?.statistics();
    const received = clients.reduce((sum, client) => sum + client.symbolsReceived, 0);
    const { status, body } = await fetchJson<Record<string, unknown>>(`${m.url}/varz`);
    assert.equal(status, 200);
    for (const name of VARZ_COUNTERS) assert.ok(name in body, `${name} is in /varz`);
    assert.equal(body['server'], 'multi-socket-server');
    assert.equal(body['pid'], process.pid);
    assert.equal(body['ready'], true);
    assert.equal(body['workers'], 1);
    assert.equal(body['clients'], 3);
    assert.equal(body['accepted'], 3);
    assert.equal(body['statistics_answers'], 1);
    assert.deepEqual(body['transports'], { tcp: 3, ws: 0 });
    assert.deepEqual(body['errors'], {});
    assert.ok((body['chunks'] as number) >= 6, `chunks ${String(body['chunks'])}`);
    assert.ok((body['symbols'] as number) >= received, 'a chunk counts when written, so at least what arrived');
    assert.ok((body['rss_bytes'] as number) > 0 && (body['cpu_seconds'] as number) > 0);
    assert.ok(!Number.isNaN(Date.parse(body['start'] as string)) && !Number.isNaN(Date.parse(body['now'] as string)));
    assert.equal(typeof body['version'], 'string');
  });

  test('/connz: one entry per connection with its figures, paged like NATS (offset, limit, total)', async () => {
    const m = await monitored();
    const clients: RawClient[] = [];
    // One after another, so that accept order (cid) is the clients' order.
    for (let i = 0; i < 5; i++) clients.push(await m.connect());
    await Promise.all(clients.map((client) => client.nextFrames(1, MessageType.symbols)));
    const all = await fetchJson<Connz>(`${m.url}/connz`);
    assert.equal(all.status, 200);
    assert.deepEqual({ total: all.body.total, num: all.body.num_connections, offset: all.body.offset, limit: all.body.limit, sort: all.body.sort }, { total: 5, num: 5, offset: 0, limit: 1024, sort: 'cid' });
    assert.deepEqual(all.body.connections.map((c) => c.port), clients.map((client) => client.localPort), 'in accept order');
    for (const entry of all.body.connections) {
      assert.equal(entry.transport, 'tcp');
      assert.equal(entry.ip, '127.0.0.1');
      assert.equal(entry.blocked, false);
      assert.ok(entry.chunks >= 1 && entry.symbols >= entry.chunks);
      assert.equal(entry.symbols_since_answer, entry.symbols, 'no statistics asked yet');
      assert.ok(!Number.isNaN(Date.parse(entry.start)) && /^\d+s$/.test(entry.uptime));
      assert.equal(typeof entry.pending_bytes, 'number');
      assert.ok(entry.out_bytes > 0);
    }
    const page = await fetchJson<Connz>(`${m.url}/connz?offset=1&limit=2`);
    assert.deepEqual(
      page.body.connections.map((c) => c.cid),
      all.body.connections.slice(1, 3).map((c) => c.cid),
    );
    assert.deepEqual({ total: page.body.total, num: page.body.num_connections, offset: page.body.offset, limit: page.body.limit }, { total: 5, num: 2, offset: 1, limit: 2 });
    const beyond = await fetchJson<Connz>(`${m.url}/connz?offset=9`);
    assert.deepEqual({ total: beyond.body.total, connections: beyond.body.connections }, { total: 5, connections: [] });
  });

  test('/connz sorts biggest first: by symbols, by what the next answer will say', async () => {
    const m = await monitored();
    const asking = await m.connect();
    const quiet = await m.connect();
    await Promise.all([asking, quiet].map((client) => client.nextFrames(2, MessageType.symbols)));
    const answer = await asking.statistics();
    const bySymbols = (await fetchJson<Connz>(`${m.url}/connz?sort=symbols`)).body.connections;
    assert.ok((bySymbols[0]?.symbols ?? 0) >= (bySymbols[1]?.symbols ?? 0), 'biggest first');
    const bySince = (await fetchJson<Connz>(`${m.url}/connz?sort=symbols_since_answer`)).body.connections;
    assert.ok((bySince[0]?.symbols_since_answer ?? 0) >= (bySince[1]?.symbols_since_answer ?? 0));
    const asked = bySince.find((c) => c.port === asking.localPort);
    assert.equal(asked?.symbols_since_answer, (asked?.symbols ?? 0) - answer.count, 'what was delivered after the answer');
    assert.equal(bySince.find((c) => c.port === quiet.localPort)?.symbols_since_answer, bySince.find((c) => c.port === quiet.localPort)?.symbols);
  });

  test('/connz shows a reader that stopped reading as blocked, with its queued bytes, first by pending', async () => {
    // No wait between chunks: a client that stops reading fills its buffer at once.
    const m = await monitored({ interval: { min: 0, max: 0 }, slowClientTimeoutMs: 30_000 });
    await m.connect({ retainSymbols: false });
    const stalled = await m.connect({ retainSymbols: false });
    stalled.pause();
    await m.waitForEvent('blocked');
    const byPending = (await fetchJson<Connz>(`${m.url}/connz?sort=pending&limit=1`)).body;
    assert.deepEqual({ total: byPending.total, num: byPending.num_connections }, { total: 2, num: 1 });
    assert.equal(byPending.connections[0]?.port, stalled.localPort);
    assert.equal(byPending.connections[0]?.blocked, true);
    assert.ok((byPending.connections[0]?.pending_bytes ?? 0) > 0, 'its queued bytes');
  });

  test('/connz refuses a bad query with 400 and says why', async () => {
    const m = await monitored();
    for (const query of ['sort=subs', 'limit=-1', 'offset=x']) {
      const reply = await fetchJson<{ error: string }>(`${m.url}/connz?${query}`);
      assert.equal(reply.status, 400, query);
      assert.match(reply.body.error, /must be/);
    }
  });

  test('/events: Server-Sent Events, one a second, the same data for every viewer', async () => {
    const m = await monitored();
    await m.connect();
    const first = new EventReader(`${m.url}/events`);
    const second = new EventReader(`${m.url}/events`);
    const response = await first.response;
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['content-type'], 'text/event-stream; charset=utf-8');
    assert.equal(response.headers['cache-control'], 'no-store');
    const events = await first.waitForEvents(3);
    assert.equal(first.retry, 2000);
    assert.ok(first.comments.length >= 1, 'a comment opens the stream');
    const figures = events.map((event) => JSON.parse(event.data) as Figures);
    for (const [i, event] of events.entries()) {
      assert.equal(event.event, 'message');
      assert.equal(event.id, String(figures[i]?.seq), 'the id is the sample number');
    }
    assert.deepEqual(figures.map((f) => f.seq - (figures[0]?.seq ?? 0)), [0, 1, 2], 'consecutive samples');
    for (let i = 1; i < figures.length; i++) {
      const gap = (figures[i]?.time ?? 0) - (figures[i - 1]?.time ?? 0);
      assert.ok(gap >= 700 && gap <= 3_000, `about a second apart: ${gap} ms`);
    }
    const last = figures.at(-1) as Figures;
    assert.equal(last.clients, 1);
    assert.deepEqual(last.transports, { tcp: 1, ws: 0 });
    assert.equal(last.ready, true);
    assert.equal(last.workers, null);
    assert.ok(last.per_second.chunks > 0 && last.lateness_ms.count > 0, JSON.stringify(last));
    assert.ok(last.lateness_ms.p50 <= last.lateness_ms.p99 && last.lateness_ms.p99 <= last.lateness_ms.max);
    assert.ok(last.process.rss_bytes > 0);
    assert.deepEqual(Object.keys(last.errors), ['protocol', 'socket', 'internal']);
    const other = await second.waitForEvents(2);
    const shared = other.find((event) => events.some((mine) => mine.id === event.id));
    assert.ok(shared !== undefined);
    assert.equal(shared.data, events.find((mine) => mine.id === shared.id)?.data, 'serialized once for every viewer');
    first.close();
    second.close();
  });

  test('/events?backlog=N sends the last N samples first; Last-Event-ID resumes after the one seen', async () => {
    const m = await monitored();
    const live = new EventReader(`${m.url}/events`);
    const seen = await live.waitForEvents(3);
    const lastId = Number(seen.at(-1)?.id);
    const backlog = new EventReader(`${m.url}/events?backlog=2`);
    const firstTwo = await backlog.waitForEvents(2);
    // Live events after connecting would be lastId + 1 and later: these are from before.
    assert.ok(Number(firstTwo[1]?.id) <= lastId + 1, `the backlog, not live events: ${firstTwo.map((e) => e.id).join(', ')} after ${lastId}`);
    assert.equal(Number(firstTwo[1]?.id) - Number(firstTwo[0]?.id), 1);
    const resumed = new EventReader(`${m.url}/events`, { 'last-event-id': String(lastId - 2) });
    const missed = await resumed.waitForEvents(2);
    assert.deepEqual(missed.map((event) => Number(event.id)), [lastId - 1, lastId]);
    for (const reader of [live, backlog, resumed]) reader.close();
    // HEAD says what the stream is and ends: no viewer is kept for it.
    const head = await fetchText(`${m.url}/events`, {}, 'HEAD');
    assert.deepEqual([head.status, head.headers['content-type'], head.body], [200, 'text/event-stream; charset=utf-8', '']);
  });

  test('/readyz fails (503) from the moment a shutdown begins, while clients drain; /healthz stays ok', async () => {
    const m = await monitored({ shutdownTimeoutMs: 5_000 });
    const client = await m.connect();
    // Served, not only connected: the server has its session.
    await client.nextFrame(MessageType.symbols);
    const stream = new EventReader(`${m.url}/events`);
    await stream.response;
    assert.equal((await fetchText(`${m.url}/readyz`)).status, 200);
    // A client that does not read its shutdown frame yet keeps the server draining.
    client.pause();
    const closing = m.server.close();
    assert.deepEqual(await fetchJson(`${m.url}/readyz`), { status: 503, body: { status: 'unavailable', reason: 'the server is shutting down' } });
    assert.equal((await fetchText(`${m.url}/healthz`)).status, 200);
    client.resume();
    await client.nextFrame(MessageType.shutdown);
    await withTimeout(closing, 5_000, 'the server to close');
    await withTimeout(stream.ended, 2_000, 'the event stream to end with the monitor');
    await assert.rejects(fetchText(`${m.url}/healthz`), /ECONNREFUSED/, 'the monitor closes with the server');
  });

  test('/: the dashboard page, its script and styles from this origin only, under a CSP with no inline script', async () => {
    const m = await monitored();
    const page = await fetchText(`${m.url}/`);
    assert.equal(page.status, 200);
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /connect-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    assert.match(page.body, /<script src="\/dashboard\.js" defer><\/script>/);
    assert.doesNotMatch(page.body, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    assert.doesNotMatch(page.body, /\bon[a-z]+=|style=/, 'no inline handlers or styles');
    assert.doesNotMatch(page.body, /(src|href)="(https?:)?\/\//, 'nothing from another origin');
    const script = await fetchText(`${m.url}/dashboard.js`);
    assert.equal(script.status, 200);
    assert.equal(script.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.ok(script.body.includes('u-legend'), 'uPlot comes in the script');
    assert.ok(!/innerHTML\s*=|insertAdjacentHTML|outerHTML\s*=|document\.write/.test(script.body), 'text is set as text');
    assert.equal((await fetchText(`${m.url}/dashboard.css`)).headers['content-type'], 'text/css; charset=utf-8');
    assert.equal((await fetchText(`${m.url}/favicon.svg`)).status, 200);
  });

  test('/metrics is Prometheus text as before; anything else is 404, a non-GET 405, a foreign Host name 421', async () => {
    const m = await monitored();
    await m.connect();
    const metrics = await fetchText(`${m.url}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(String(metrics.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.match(metrics.body, /^multi_socket_clients 1$/m);
    assert.match(metrics.body, /^multi_socket_chunk_lateness_seconds_bucket\{le="0\.005"\} /m);
    const missing = await fetchText(`${m.url}/nope`);
    assert.equal(missing.status, 404);
    assert.match(missing.body, /\/varz/);
    const post = await fetchText(`${m.url}/varz`, {}, 'POST');
    assert.equal(post.status, 405);
    assert.equal(post.headers['allow'], 'GET, HEAD');
    // A page elsewhere whose name resolves to 127.0.0.1 (DNS rebinding) reads nothing.
    assert.equal((await fetchText(`${m.url}/connz`, { host: 'attacker.example' })).status, 421);
    assert.equal((await fetchText(`${m.url}/connz`, { host: 'localhost' })).status, 200);
  });

  test('a viewer more than the cap is told 503; the others are served', async () => {
    const m = await monitored();
    const readers = Array.from({ length: 64 }, () => new EventReader(`${m.url}/events`));
    await Promise.all(readers.map((reader) => reader.response));
    const one = await fetchText(`${m.url}/events`);
    assert.equal(one.status, 503);
    assert.match(one.body, /too many viewers/);
    for (const reader of readers) reader.close();
  });
});
