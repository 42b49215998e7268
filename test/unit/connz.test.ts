import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CONNZ_SORTS, comparer, connzOf, DEFAULT_LIMIT, duration, mergePages, parseConnzQuery, selectConnections, type ConnzQuery } from '../../src/monitor/connz.js';
import type { ConnectionSnapshot, MonitoredConnection } from '../../src/server/monitoring.js';

function snapshot(id: number, fields: Partial<ConnectionSnapshot> = {}): ConnectionSnapshot {
  return {
    id,
    transport: 'tcp',
    host: '127.0.0.1',
    port: 40_000 + id,
    connectedAt: 1_000_000 + id,
    chunks: 0,
    symbols: 0,
    symbolsSinceAnswer: 0,
    queuedBytes: 0,
    blocked: false,
    bytesRead: 0,
    bytesWritten: 0,
    ...fields,
  };
}

/** Connections whose describe() calls are counted. */
function connections(snapshots: readonly ConnectionSnapshot[]): { list: MonitoredConnection[]; described: () => number } {
  let described = 0;
  const list = snapshots.map((s) => ({
    transport: { kind: s.transport },
    describe: () => {
      described++;
      return s;
    },
  }));
  return { list, described: () => described };
}

const query = (fields: Partial<ConnzQuery>): ConnzQuery => ({ offset: 0, limit: DEFAULT_LIMIT, sort: 'cid', ...fields });

void describe('/connz query', () => {
  void it('defaults to offset 0, limit 1024, sort by cid, as NATS does', () => {
    assert.deepEqual(parseConnzQuery(new URLSearchParams('')), { offset: 0, limit: 1024, sort: 'cid' });
    assert.deepEqual(parseConnzQuery(new URLSearchParams('offset=5&limit=2&sort=pending')), { offset: 5, limit: 2, sort: 'pending' });
  });

  for (const bad of ['offset=-1', 'offset=1.5', 'limit=x', 'limit=10001', 'sort=subs', 'sort=__proto__', 'sort=toString']) {
    void it(`refuses ${bad}, saying what is allowed`, () => {
      const parsed = parseConnzQuery(new URLSearchParams(bad));
      assert.ok('error' in parsed, JSON.stringify(parsed));
      assert.match(parsed.error, bad.startsWith('sort') ? /sort must be one of cid, start/ : /must be a whole number/);
    });
  }
});

void describe('selectConnections', () => {
  const many = Array.from({ length: 50 }, (_, i) => snapshot(i + 1, { symbols: (i * 37) % 50, queuedBytes: i % 7 === 0 ? 1000 + i : 0 }));

  void it('pages in accept order describing only the page', () => {
    const { list, described } = connections(many);
    const { total, page } = selectConnections(list, 50, query({ offset: 10, limit: 5 }));
    assert.equal(total, 50);
    assert.deepEqual(page.map((c) => c.id), [11, 12, 13, 14, 15]);
    assert.equal(described(), 5);
  });

  void it('an offset past the end gives an empty page and the total', () => {
    const { list } = connections(many);
    assert.deepEqual(selectConnections(list, 50, query({ offset: 60, limit: 5 })), { total: 50, page: [] });
    assert.deepEqual(selectConnections(list, 50, query({ sort: 'symbols', offset: 60, limit: 5 })), { total: 50, page: [] });
  });

  void it('limit 0 counts without describing anyone', () => {
    const { list, described } = connections(many);
    assert.equal(selectConnections(list, 50, query({ limit: 0, sort: 'pending' })).total, 50);
    assert.equal(described(), 0);
  });

  void it('every sort gives the same page as sorting them all (descending but cid and start, ties by cid)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ symbols: fc.nat(5), queuedBytes: fc.nat(3), chunks: fc.nat(4), bytesWritten: fc.nat(9) }), { maxLength: 60 }),
        fc.constantFrom(...CONNZ_SORTS),
        fc.nat(70),
        fc.nat(30),
        (fields, sort, offset, limit) => {
          const all = fields.map((f, i) => snapshot(i + 1, f));
          const expected = [...all].sort(comparer(sort)).slice(offset, offset + limit);
          const { page } = selectConnections(connections(all).list, all.length, { offset, limit, sort });
          assert.deepEqual(page.map((c) => c.id), expected.map((c) => c.id));
        },
      ),
    );
  });

  void it('sorts by pending bytes biggest first', () => {
    const { page } = selectConnections(connections(many).list, many.length, query({ sort: 'pending', limit: 3 }));
    assert.deepEqual(page.map((c) => c.queuedBytes), [1049, 1042, 1035]);
  });
});

void describe('mergePages (--workers)', () => {
  void it("takes the whole server's page from each worker's first offset + limit", () => {
    const worker1 = [snapshot(1, { symbols: 9 }), snapshot(2, { symbols: 5 }), snapshot(3, { symbols: 1 })];
    const worker2 = [snapshot(1, { symbols: 7 }), snapshot(2, { symbols: 5 })];
    const wanted = query({ sort: 'symbols', offset: 1, limit: 2 });
    const first = (list: ConnectionSnapshot[]): { total: number; page: ConnectionSnapshot[] } => selectConnections(connections(list).list, list.length, { ...wanted, offset: 0, limit: 3 });
    const merged = mergePages([{ worker: 1, ...first(worker1) }, { worker: 2, ...first(worker2) }], wanted);
    assert.equal(merged.total, 5);
    assert.deepEqual(merged.page.map((c) => [c.worker, c.id, c.symbols]), [[2, 1, 7], [1, 2, 5]]);
  });
});

void describe('connzOf', () => {
  void it("names its fields as NATS's /connz does where the idea is the same", () => {
    const now = 1_000_000 + 3_723_000;
    const connz = connzOf({ total: 4, page: [{ ...snapshot(7, { queuedBytes: 12, blocked: true, bytesRead: 3, bytesWritten: 9 }), connectedAt: 1_000_000, worker: 2 }] }, query({ limit: 1 }), now);
    assert.deepEqual(connz, {
      now: new Date(now).toISOString(),
      num_connections: 1,
      total: 4,
      offset: 0,
      limit: 1,
      sort: 'cid',
      connections: [
        {
          cid: 7,
          worker: 2,
          transport: 'tcp',
          ip: '127.0.0.1',
          port: 40_007,
          start: new Date(1_000_000).toISOString(),
          uptime: '1h2m3s',
          chunks: 0,
          symbols: 0,
          symbols_since_answer: 0,
          pending_bytes: 12,
          blocked: true,
          in_bytes: 3,
          out_bytes: 9,
        },
      ],
    });
  });

  void it('writes durations as NATS does', () => {
    assert.equal(duration(0), '0s');
    assert.equal(duration(59_999), '59s');
    assert.equal(duration(60_000), '1m0s');
    assert.equal(duration(90_061_000), '1d1h1m1s');
  });
});
