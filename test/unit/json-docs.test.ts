/**
 * json mode is a contract: docs/json.md lists every event both programs can print and every
 * field of each, and nothing else. One example of each event type (the tables are typed, so a
 * new event type fails to compile until it has one) is formatted in json mode and held against
 * the page.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { ClientEvent, Target } from '../../src/client/events.js';
import type { CertificateSummary } from '../../src/client/tls.js';
import { clientLine } from '../../src/output/client-lines.js';
import { clusterLine } from '../../src/output/cluster-lines.js';
import { listenFailedLine, serverLine, type ListenFailure } from '../../src/output/server-lines.js';
import { ErrorCode, HeaderJsonError, ProtocolError, StatisticsInvalidError } from '../../src/protocol/errors.js';
import { TlsHandshakeError } from '../../src/transport/tls.js';
import type { FrameHeader } from '../../src/protocol/frame.js';
import { encodeClientRequest } from '../../src/protocol/messages.js';
import type { ClusterEvent } from '../../src/server/cluster.js';
import type { Peer, ServerEvent } from '../../src/server/events.js';
import type { ProcessSnapshot, StatsSnapshot } from '../../src/server/snapshot.js';

/** One event of each type, by type. */
type OneOfEach<E extends { readonly type: string }> = { readonly [K in E['type']]: Extract<E, { readonly type: K }> };

const PEER: Peer = { id: 1, host: '127.0.0.1', port: 60174, family: 'IPv4' };
const TARGET: Target = { host: 'localhost', port: 65432 };
const HEADER = { byteorder: 'little', 'content-type': 'binary/custom-client-binary-type', 'content-encoding': 'binary', 'content-length': 1 } as FrameHeader;
const errno = (code: string, message: string): NodeJS.ErrnoException => Object.assign(new Error(message), { code });
const failure = (message: string): Error => Object.assign(new Error(message), { stack: `Error: ${message}\n    at somewhere (file.js:1:1)` });
const STATS: StatsSnapshot = {
  clients: 1,
  accepted: 2,
  rejected: 1,
  closed: 1,
  chunks: 3,
  symbols: 9,
  statisticsAnswers: 1,
  blocked: 0,
  errors: { ERR_SERVER_FULL: 1 },
  connectionErrors: { ECONNRESET: 1 },
  internalErrors: 0,
  healthChecks: 1,
  tlsErrors: { ERR_SSL_WRONG_VERSION_NUMBER: 1 },
};
// Every optional field given, so that every documented field shows.
const PROCESS: ProcessSnapshot = { rssBytes: 50_000_000, heapUsedBytes: 8_000_000, heapAfterGcBytes: 6_000_000, resources: { TCPSocketWrap: 1 } };

const SERVER: OneOfEach<ServerEvent> = {
  listening: { type: 'listening', host: 'localhost', port: 65432, family: 'IPv4' },
  metrics: { type: 'metrics', host: '127.0.0.1', port: 9100 },
  web: { type: 'web', host: '127.0.0.1', port: 8080, tls: false },
  accepted: { type: 'accepted', peer: PEER, clients: 1 },
  rejected: { type: 'rejected', peer: PEER, error: new ProtocolError(ErrorCode.serverFull, 'server full (1 clients)') },
  scheduled: { type: 'scheduled', peer: PEER, wait: { ms: 3000, seconds: 3 } },
  chunk: { type: 'chunk', peer: PEER, content: Buffer.from('td3kk'), sleepTime: 3, frameBytes: 150, lateMs: 0.4 },
  request: { type: 'request', peer: PEER, header: HEADER, content: Buffer.from('s') },
  statistics: { type: 'statistics', peer: PEER, count: 5, content: Buffer.from('Statistics: 5 symbols was delivered'), frameBytes: 181 },
  'protocol-error': { type: 'protocol-error', peer: PEER, error: new HeaderJsonError(new SyntaxError('bad')) },
  blocked: { type: 'blocked', peer: PEER, queuedBytes: 65_536 },
  unblocked: { type: 'unblocked', peer: PEER, blockedMs: 12.5 },
  'peer-closed': { type: 'peer-closed', peer: PEER },
  'connection-error': { type: 'connection-error', peer: PEER, error: errno('ECONNRESET', 'read ECONNRESET') },
  'internal-error': { type: 'internal-error', peer: PEER, error: failure('oops') },
  closed: { type: 'closed', peer: PEER, summary: { durationMs: 1234, chunks: 3, symbols: 9, bytesRead: 129, bytesWritten: 572 } },
  shutdown: { type: 'shutdown', reason: 'server shutting down (SIGTERM)', signal: 'SIGTERM', clients: 1 },
  'process-error': { type: 'process-error', error: failure('stray'), recovered: true },
  stats: { type: 'stats', stats: STATS, process: PROCESS },
  stopped: { type: 'stopped', forced: 0, stats: STATS },
  'health-check': { type: 'health-check', peer: PEER },
  'tls-error': { type: 'tls-error', peer: PEER, error: new TlsHandshakeError('ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number') },
  // With --workers: every optional field shows.
  'tls-reloaded': { type: 'tls-reloaded', certificate: { subject: 'CN=localhost', validTo: new Date('2027-01-01T00:00:00Z'), fingerprint: 'AB:CD' }, workers: 2 },
  'tls-reload-failed': { type: 'tls-reload-failed', error: new Error("cannot read --tls-key 'key.pem': no such file or directory (ENOENT)"), workers: { failed: 2, of: 2 } },
  'nothing-to-reload': { type: 'nothing-to-reload' },
};

const CLUSTER: OneOfEach<ClusterEvent> = {
  'worker-listening': { type: 'worker-listening', worker: 1, pid: 4242, replacement: false },
  'worker-died': { type: 'worker-died', worker: 1, pid: 4242, cause: 'SIGKILL', replaced: true },
  'crash-loop': { type: 'crash-loop', deaths: 6, withinMs: 10_000 },
};

const LISTEN_FAILED: ListenFailure = { type: 'listen-failed', listener: 'server', host: '127.0.0.1', port: 65432, error: errno('EADDRINUSE', 'listen EADDRINUSE') };

const CERTIFICATE: CertificateSummary = {
  subject: 'localhost',
  issuer: 'multi-socket test CA',
  altNames: 'DNS:localhost, IP Address:127.0.0.1',
  validFrom: 'Jan  1 00:00:00 2020 GMT',
  validTo: 'Jan  2 00:00:00 2020 GMT',
  fingerprint256: '3A:'.repeat(31) + '3A',
};

const CLIENT: OneOfEach<ClientEvent> = {
  starting: { type: 'starting', target: TARGET },
  connected: { type: 'connected', target: TARGET, local: '127.0.0.1:60174', remote: '127.0.0.1:65432' },
  hint: { type: 'hint' },
  frame: {
    type: 'frame',
    target: TARGET,
    frame: { header: { ...HEADER, 'content-type': 'binary/custom-server-binary-type', sleep_time: 3 }, content: Buffer.from('td3kk'), size: 150 },
    messageType: 'symbols',
  },
  statistics: { type: 'statistics', reported: 5, counted: 5 },
  request: { type: 'request', target: TARGET, request: Buffer.from('s'), frame: encodeClientRequest() },
  'bad-statistics': {
    type: 'bad-statistics',
    error: new StatisticsInvalidError(Buffer.from('Statistics: many symbols'), "statistics answer not in the form 'Statistics: N symbols was delivered'"),
    counted: 5,
  },
  key: { type: 'key', key: 'x', character: true },
  'server-error': { type: 'server-error', reason: Buffer.from('ERR_SERVER_FULL: server full (1 clients)') },
  shutdown: { type: 'shutdown', reason: Buffer.from('server shutting down (SIGTERM)') },
  'peer-closed': { type: 'peer-closed' },
  'protocol-error': { type: 'protocol-error', error: new HeaderJsonError(new SyntaxError('bad')) },
  'connection-error': { type: 'connection-error', error: errno('ECONNRESET', 'read ECONNRESET') },
  'connect-failed': { type: 'connect-failed', target: TARGET, error: errno('ECONNREFUSED', 'connect ECONNREFUSED') },
  'tls-untrusted': { type: 'tls-untrusted', target: TARGET, name: 'localhost', code: 'CERT_HAS_EXPIRED', certificate: CERTIFICATE },
  'tls-failed': {
    type: 'tls-failed',
    target: TARGET,
    error: Object.assign(new Error('tlsv13 alert certificate required'), { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', reason: 'tlsv13 alert certificate required' }),
  },
  'tls-insecure': { type: 'tls-insecure', target: TARGET, name: 'localhost', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', certificate: CERTIFICATE },
  reconnecting: { type: 'reconnecting', target: TARGET, attempt: 1, attempts: 0, delayMs: 500 },
  'idle-timeout': { type: 'idle-timeout', target: TARGET, seconds: 30, connected: true },
  'not-connected': { type: 'not-connected', target: TARGET, requests: 2, everConnected: false },
  closing: { type: 'closing', target: TARGET },
};

type Json = Record<string, unknown>;
const parse = (line: string): Json => JSON.parse(line) as Json;

/** Every json line each program can print, one per event type. */
const PRINTED: Readonly<Record<'server' | 'client', readonly Json[]>> = {
  server: [
    ...Object.values(SERVER).map((event: ServerEvent) => parse(serverLine('json', event) ?? '')),
    ...Object.values(CLUSTER).map((event: ClusterEvent) => parse(clusterLine('json', event) ?? '')),
    parse(listenFailedLine('json', LISTEN_FAILED)),
  ],
  client: Object.values(CLIENT)
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
