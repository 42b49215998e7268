import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Figures } from '../../src/monitor/figures.js';
import { LatenessHistogram } from '../../src/monitor/lateness.js';
import type { ProcessReading, Reading } from '../../src/monitor/probe.js';
import { Sampler, type MemberReading } from '../../src/monitor/sampler.js';
import { sumStats, type StatsSnapshot } from '../../src/server/snapshot.js';

function stats(fields: Partial<StatsSnapshot>): StatsSnapshot {
  return { ...sumStats([]), ...fields };
}

function reading(fields: Partial<StatsSnapshot>, options: { lateMs?: number[]; cpuMicros?: number; transports?: Record<string, number> } = {}): Reading {
  const lateness = new LatenessHistogram();
  for (const ms of options.lateMs ?? []) lateness.observe(ms);
  const process: ProcessReading = { rssBytes: 100, heapUsedBytes: 10, cpuMicros: options.cpuMicros ?? 0 };
  return { stats: stats(fields), transports: options.transports ?? {}, process, lateness: lateness.take() };
}

/** A sampler over readings the test hands it, on a clock the test moves. */
function rig(own?: () => ProcessReading): { sampler: Sampler; next: (members: MemberReading[], afterMs?: number) => Promise<Figures | undefined> } {
  let now = 0;
  let members: MemberReading[] = [];
  const sampler = new Sampler({ ready: () => true, read: () => members, ...(own === undefined ? {} : { own }) }, () => now);
  return {
    sampler,
    next: (next, afterMs = 1000) => {
      members = next;
      now += afterMs;
      return sampler.tick();
    },
  };
}

void describe('Sampler', () => {
  void it('turns two readings into rates per second, CPU into percent of a core', async () => {
    const { next } = rig();
    const first = await next([{ key: 'server', reading: reading({ accepted: 3, chunks: 10, clients: 3 }, { transports: { tcp: 3 } }) }]);
    assert.equal(first?.per_second.chunks, 0, 'nothing to compare the first reading with');
    const second = await next(
      [{ key: 'server', reading: reading({ accepted: 5, closed: 1, chunks: 30, symbols: 60, statisticsAnswers: 4, errors: { ERR_HEADER_JSON: 2 }, clients: 4 }, { cpuMicros: 250_000, transports: { tcp: 4 } }) }],
      2000,
    );
    assert.deepEqual(second?.per_second, { accepted: 1, closed: 0.5, rejected: 0, chunks: 10, symbols: 30, statistics_answers: 2, errors: 1 });
    assert.equal(second?.process.cpu_percent, 12.5);
    assert.deepEqual(second?.transports, { tcp: 4, ws: 0 }, 'the known transports always there');
    assert.deepEqual(second?.errors, { protocol: { ERR_HEADER_JSON: 2 }, socket: {}, internal: 0 });
    assert.equal(second?.workers, null, 'a single process has no workers');
    assert.equal(second?.seq, 2);
  });

  void it('keeps the lateness of the last minute, seconds older than that forgotten', async () => {
    const { next } = rig();
    await next([{ key: 'server', reading: reading({}, { lateMs: [300] }) }]);
    for (let second = 0; second < 59; second++) {
      const figures = await next([{ key: 'server', reading: reading({}, { lateMs: [0.2, 0.2] }) }]);
      assert.equal(figures?.lateness_ms.max, 300, 'the slow chunk is within the minute');
    }
    const later = await next([{ key: 'server', reading: reading({}, { lateMs: [0.2] }) }]);
    assert.equal(later?.lateness_ms.max, 0.2);
    assert.equal(later?.lateness_ms.count, 119);
  });

  void it('with --workers: each worker apart, the whole server their sum plus the primary', async () => {
    const { next } = rig(() => ({ rssBytes: 1000, heapUsedBytes: 1, cpuMicros: 0 }));
    const worker = (slot: number, pid: number, chunks: number, lateMs: number[]): MemberReading => ({
      key: String(pid),
      worker: { slot, pid },
      reading: reading({ chunks, clients: slot }, { lateMs, transports: { tcp: slot } }),
    });
    await next([worker(2, 202, 0, []), worker(1, 101, 0, [])]);
    const figures = await next([worker(2, 202, 40, [9]), worker(1, 101, 10, [1])]);
    assert.deepEqual(
      figures?.workers?.map((w) => [w.worker, w.pid, w.clients, w.per_second.chunks, w.lateness_ms.max]),
      [
        [1, 101, 1, 10, 1],
        [2, 202, 2, 40, 9],
      ],
      'each worker, in slot order',
    );
    assert.equal(figures?.per_second.chunks, 50);
    assert.equal(figures?.clients, 3);
    assert.equal(figures?.lateness_ms.max, 9);
    assert.equal(figures?.process.rss_bytes, 2 * 100 + 1000, "the workers' memory and the primary's");
    // Worker 2 is replaced: its successor's counters start from 0, and its rate from the next reading.
    const replaced = await next([worker(2, 303, 5, []), worker(1, 101, 20, [])]);
    assert.deepEqual(replaced?.workers?.map((w) => w.per_second.chunks), [10, 0]);
    assert.equal(replaced?.per_second.chunks, 10, 'never negative across a replacement');
  });

  void it('hands every sample to every listener, the same object for all', async () => {
    const { sampler, next } = rig();
    const seen: unknown[][] = [[], []];
    sampler.onFigures((figures) => seen[0]?.push(figures));
    sampler.onFigures((figures) => seen[1]?.push(figures));
    await next([{ key: 'server', reading: reading({}) }]);
    await next([{ key: 'server', reading: reading({}) }]);
    assert.equal(seen[0]?.length, 2);
    assert.deepEqual(seen[0], seen[1]);
    assert.equal(seen[0]?.[1], sampler.latest);
  });
});
