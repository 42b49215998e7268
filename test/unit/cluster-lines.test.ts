import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clusterLine } from '../../src/output/cluster-lines.js';
import { MODES, type Mode } from '../../src/output/mode.js';
import type { ClusterEvent } from '../../src/server/cluster.js';

/** What each mode prints for one event: the text without debug's time, the json fields; undefined: nothing. */
interface Expected {
  readonly text: Record<Exclude<Mode, 'json'>, string | undefined>;
  readonly json: Record<string, unknown>;
}

const CASES: readonly { readonly name: string; readonly event: ClusterEvent; readonly expected: Expected }[] = [
  {
    name: 'a worker started',
    event: { type: 'worker-listening', worker: 1, pid: 4242, replacement: false },
    expected: {
      text: { user: undefined, quiet: undefined, debug: 'worker 1 started (pid 4242)' },
      json: { event: 'worker-listening', worker: 1, pid: 4242, replacement: false },
    },
  },
  {
    name: 'a replacement started',
    event: { type: 'worker-listening', worker: 2, pid: 4343, replacement: true },
    expected: {
      text: { user: 'worker 2 restarted (pid 4343)', quiet: 'worker 2 restarted (pid 4343)', debug: 'worker 2 restarted (pid 4343)' },
      json: { event: 'worker-listening', worker: 2, pid: 4343, replacement: true },
    },
  },
  {
    name: 'a worker died and is replaced',
    event: { type: 'worker-died', worker: 2, pid: 4242, cause: 'SIGKILL', replaced: true },
    expected: {
      text: {
        user: 'worker 2 (pid 4242) died (SIGKILL), starting a replacement',
        quiet: 'worker 2 (pid 4242) died (SIGKILL), starting a replacement',
        debug: 'worker 2 (pid 4242) died (SIGKILL), starting a replacement',
      },
      json: { event: 'worker-died', worker: 2, pid: 4242, cause: 'SIGKILL', replaced: true },
    },
  },
  {
    name: 'a worker died and is not replaced',
    event: { type: 'worker-died', worker: 1, pid: 4444, cause: 'exit code 1', replaced: false },
    expected: {
      text: { user: 'worker 1 (pid 4444) died (exit code 1)', quiet: 'worker 1 (pid 4444) died (exit code 1)', debug: 'worker 1 (pid 4444) died (exit code 1)' },
      json: { event: 'worker-died', worker: 1, pid: 4444, cause: 'exit code 1', replaced: false },
    },
  },
  {
    name: 'the crash-loop guard tripped',
    event: { type: 'crash-loop', deaths: 6, withinMs: 10_000 },
    expected: {
      text: {
        user: 'error: 6 worker deaths within 10 s; stopping the server',
        quiet: 'error: 6 worker deaths within 10 s; stopping the server',
        debug: 'error: 6 worker deaths within 10 s; stopping the server',
      },
      json: { event: 'crash-loop', deaths: 6, within_s: 10 },
    },
  },
];

const DEBUG_TIME = /^\d\d:\d\d:\d\d\.\d{3} /;

void describe('clusterLine', () => {
  for (const { name, event, expected } of CASES) {
    for (const mode of MODES) {
      void it(`${name}, in ${mode} mode`, () => {
        const line = clusterLine(mode, event);
        if (mode === 'json') {
          const { time, ...fields } = JSON.parse(line ?? '') as { time: string };
          assert.ok(!Number.isNaN(Date.parse(time)), `a time: ${time}`);
          assert.deepEqual(fields, expected.json);
          // The time first, then the event, so that logs sort and merge.
          assert.deepEqual(Object.keys(JSON.parse(line ?? '') as object).slice(0, 2), ['time', 'event']);
          return;
        }
        const text = expected.text[mode];
        if (mode === 'debug' && text !== undefined) {
          assert.match(line ?? '', DEBUG_TIME);
          assert.equal(line?.replace(DEBUG_TIME, ''), text);
        } else {
          assert.equal(line, text);
        }
      });
    }
  }
});
