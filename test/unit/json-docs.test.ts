/**
 * json mode is a contract: docs/json.md lists every event both programs can print and every
 * field of each, and nothing else. One example of each event type (test/support/event-examples.ts,
 * typed so that a new event type fails to compile until it has one) is formatted in json mode and
 * held against the page.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { ClientEvent } from '../../src/client/events.js';
import { clientLine } from '../../src/output/client-lines.js';
import { clusterLine } from '../../src/output/cluster-lines.js';
import { listenFailedLine, serverLine } from '../../src/output/server-lines.js';
import type { ClusterEvent } from '../../src/server/cluster.js';
import type { ServerEvent } from '../../src/server/events.js';
import { CLIENT_EVENTS, CLUSTER_EVENTS, LISTEN_FAILED, SERVER_EVENTS, type OneOfEach } from '../support/event-examples.js';

/** With `--workers`, so that every optional field shows. */
const SERVER: OneOfEach<ServerEvent> = {
  ...SERVER_EVENTS,
  'tls-reloaded': { ...SERVER_EVENTS['tls-reloaded'], workers: 2 },
  'tls-reload-failed': { ...SERVER_EVENTS['tls-reload-failed'], workers: { failed: 2, of: 2 } },
};

type Json = Record<string, unknown>;
const parse = (line: string): Json => JSON.parse(line) as Json;

/** Every json line each program can print, one per event type. */
const PRINTED: Readonly<Record<'server' | 'client', readonly Json[]>> = {
  server: [
    ...Object.values(SERVER).map((event: ServerEvent) => parse(serverLine('json', event) ?? '')),
    ...Object.values(CLUSTER_EVENTS).map((event: ClusterEvent) => parse(clusterLine('json', event) ?? '')),
    parse(listenFailedLine('json', LISTEN_FAILED)),
  ],
  client: Object.values(CLIENT_EVENTS)
    .map((event: ClientEvent) => clientLine('json', event))
    .filter((line) => line !== undefined)
    .map(parse),
};

/** Maps whose keys are data (error codes, handle kinds, a peer's header), not field names. */
const MAPS = new Set(['header', 'errors', 'connection_errors', 'tls_errors', 'resources']);
const COMMON = ['time', 'event'];

/** docs/json.md read as sections: `### \`name\`` under a `## ` part, each with its table's fields. */
function documented(): Map<string, Map<string, string[]>> {
  const text = readFileSync(new URL('../../../docs/json.md', import.meta.url), 'utf8');
  const parts = new Map<string, Map<string, string[]>>();
  let part: Map<string, string[]> | undefined;
  let fields: string[] | undefined;
  for (const line of text.split('\n')) {
    const partTitle = /^## (.+)$/.exec(line)?.[1];
    if (partTitle !== undefined) {
      part = new Map();
      parts.set(partTitle, part);
      fields = [];
      part.set('', fields);
      continue;
    }
    const name = /^### `([^`]+)`/.exec(line)?.[1];
    if (name !== undefined && part !== undefined) {
      fields = [];
      part.set(name, fields);
      continue;
    }
    const field = /^\| `([^`]+)` \|/.exec(line)?.[1];
    if (field !== undefined) fields?.push(field);
  }
  return parts;
}

const DOCS = documented();
const part = (title: string): Map<string, string[]> => {
  const found = DOCS.get(title);
  assert.ok(found !== undefined, `docs/json.md has a part "## ${title}"`);
  return found;
};

void describe('docs/json.md', () => {
  void it('lists the fields every event has', () => {
    assert.deepEqual(part('Every event').get(''), COMMON);
    for (const line of [...PRINTED.server, ...PRINTED.client]) assert.deepEqual(Object.keys(line).slice(0, 2), COMMON, JSON.stringify(line));
  });

  for (const [program, title] of [
    ['server', 'Server events'],
    ['client', 'Client events'],
  ] as const) {
    void it(`documents every ${program} event with exactly the fields it prints`, () => {
      const sections = part(title);
      for (const line of PRINTED[program]) {
        const event = line['event'] as string;
        const fields = sections.get(event);
        assert.ok(fields !== undefined, `the ${program} event "${event}" is documented under "## ${title}"`);
        assert.deepEqual(
          Object.keys(line)
            .filter((key) => !COMMON.includes(key))
            .sort(),
          [...fields].sort(),
          `the fields of the ${program} event "${event}"`,
        );
      }
    });

    void it(`documents no ${program} event that cannot be printed`, () => {
      const printed = new Set(PRINTED[program].map((line) => line['event']));
      for (const event of part(title).keys()) if (event !== '') assert.ok(printed.has(event), `"${event}" is documented but never printed`);
    });
  }

  void it('documents every object inside an event with exactly its fields', () => {
    const objects = part('Objects');
    const check = (value: unknown, key: string): void => {
      if (typeof value !== 'object' || value === null || Array.isArray(value) || MAPS.has(key)) return;
      const fields = objects.get(`${key}`);
      assert.ok(fields !== undefined, `the object "${key}" is documented under "## Objects"`);
      assert.deepEqual(Object.keys(value).sort(), [...fields].sort(), `the fields of the object "${key}"`);
      for (const [inner, child] of Object.entries(value)) check(child, inner);
    };
    for (const line of [...PRINTED.server, ...PRINTED.client]) for (const [key, value] of Object.entries(line)) check(value, key);
    for (const name of objects.keys()) {
      if (name === '') continue;
      const used = [...PRINTED.server, ...PRINTED.client].some((line) => typeof line[name] === 'object');
      assert.ok(used, `the object "${name}" is documented but in no event`);
    }
  });

  void it('names events with lowercase words and -, keys with lowercase words and _', () => {
    const names = (value: unknown, path: string): string[] => {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
      return Object.entries(value).flatMap(([key, child]) => [`${path}${key}`, ...(MAPS.has(key) ? [] : names(child, `${path}${key}.`))]);
    };
    for (const line of [...PRINTED.server, ...PRINTED.client]) {
      assert.match(line['event'] as string, /^[a-z]+(-[a-z]+)*$/);
      for (const key of names(line, '')) assert.match(key.split('.').pop() ?? '', /^[a-z]+(_[a-z]+)*$/, `${line['event'] as string}: ${key}`);
    }
  });

  void it('is linked from the README', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    assert.match(readme, /\(docs\/json\.md\)/);
  });
});
