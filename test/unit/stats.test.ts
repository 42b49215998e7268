import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serverLine } from '../../src/output/server-lines.js';
import { ErrorCode, HeaderJsonError, ProtocolError, ProxyHeaderError } from '../../src/protocol/errors.js';
import { TlsHandshakeError } from '../../src/transport/tls.js';
import type { ServerEvent } from '../../src/server/events.js';
import { sumStats, type StatsSnapshot } from '../../src/server/snapshot.js';
import { ServerStats } from '../../src/server/stats.js';
import { PEER } from '../support/event-examples.js';

const socketError = (code: string | undefined): NodeJS.ErrnoException => Object.assign(new Error(`read ${code ?? '?'}`), { code });

/** The fields of a snapshot, in the order a json `stats` or `stopped` line shows them. */
const FIELDS = ['clients', 'accepted', 'rejected', 'closed', 'chunks', 'symbols', 'statisticsAnswers', 'blocked', 'errors', 'connectionErrors', 'internalErrors', 'healthChecks', 'tlsErrors'];

const ZERO: StatsSnapshot = {
  clients: 0,
  accepted: 0,
  rejected: 0,
  closed: 0,
  chunks: 0,
  symbols: 0,
  statisticsAnswers: 0,
  blocked: 0,
  errors: {},
  connectionErrors: {},
  internalErrors: 0,
  healthChecks: 0,
  tlsErrors: {},
};

function recorded(events: readonly ServerEvent[]): ServerStats {
  const stats = new ServerStats();
  for (const event of events) stats.record(event);
  return stats;
}

void describe('ServerStats', () => {
  void it('starts at zero, with the clients it is given', () => {
    assert.deepEqual(new ServerStats().snapshot(0), ZERO);
    assert.equal(new ServerStats().snapshot(7).clients, 7);
  });

  void it('lists its fields in the order of the json stats lines', () => {
    assert.deepEqual(Object.keys(new ServerStats().snapshot(0)), FIELDS);
  });

  void it('counts each event in its own counter', () => {
    const stats = recorded([
      { type: 'accepted', peer: PEER, clients: 1 },
      { type: 'accepted', peer: PEER, clients: 2 },
      { type: 'rejected', peer: PEER, error: new ProtocolError(ErrorCode.serverFull, 'full') },
      { type: 'statistics', peer: PEER, count: 3, content: Buffer.from('x'), frameBytes: 10 },
      { type: 'protocol-error', peer: PEER, error: new HeaderJsonError(new SyntaxError('bad')) },
      { type: 'protocol-error', peer: PEER, error: new HeaderJsonError(new SyntaxError('bad')) },
      { type: 'connection-error', peer: PEER, error: socketError('ECONNRESET') },
      { type: 'connection-error', peer: PEER, error: socketError(undefined) },
      { type: 'internal-error', peer: PEER, error: new Error('bug') },
      { type: 'blocked', peer: PEER, queuedBytes: 1 },
      { type: 'closed', peer: PEER, summary: { durationMs: 1, chunks: 0, symbols: 0, bytesRead: 0, bytesWritten: 0 } },
      { type: 'rejected', peer: PEER, error: new ProxyHeaderError('no PROXY protocol header received within 10 s') },
      { type: 'health-check', peer: PEER },
      { type: 'tls-error', peer: PEER, error: new TlsHandshakeError('ERR_TLS_HANDSHAKE_TIMEOUT', 'TLS handshake not complete within 10 s') },
    ]);
    stats.chunkSent(4, 0);
    stats.chunkSent(2, 0);
    assert.deepEqual(stats.snapshot(1), {
      clients: 1,
      accepted: 2,
      rejected: 2,
      closed: 1,
      chunks: 2,
      symbols: 6,
      statisticsAnswers: 1,
      blocked: 1,
      errors: { ERR_SERVER_FULL: 1, ERR_HEADER_JSON: 2, ERR_PROXY_HEADER: 1 },
      connectionErrors: { ECONNRESET: 1, unknown: 1 },
      internalErrors: 1,
      healthChecks: 1,
      tlsErrors: { ERR_TLS_HANDSHAKE_TIMEOUT: 1 },
    });
  });

  void it('counts nothing for the events that are not counters', () => {
    const stats = recorded([
      { type: 'listening', host: '127.0.0.1', port: 1, family: 'IPv4' },
      { type: 'scheduled', peer: PEER, wait: { ms: 1000, seconds: 1 } },
      { type: 'chunk', peer: PEER, content: Buffer.from('ab'), sleepTime: 1, frameBytes: 10, lateMs: 0 },
      { type: 'unblocked', peer: PEER, blockedMs: 5 },
      { type: 'peer-closed', peer: PEER },
      { type: 'tls-reloaded', certificate: { subject: 'CN=localhost', validTo: new Date(0), fingerprint: 'AB' } },
      { type: 'nothing-to-reload' },
    ]);
    assert.deepEqual(stats.snapshot(0), ZERO);
  });

  void it('hands every chunk lateness to its observer', () => {
    const stats = new ServerStats();
    const seen: number[] = [];
    stats.onLateness((ms) => seen.push(ms));
    stats.chunkSent(1, 0.5);
    stats.chunkSent(1, 12);
    assert.deepEqual(seen, [0.5, 12]);
  });

  void it('gives a snapshot that later events leave alone', () => {
    const stats = recorded([{ type: 'rejected', peer: PEER, error: new ProtocolError(ErrorCode.serverFull, 'full') }]);
    const before = stats.snapshot(0);
    stats.record({ type: 'rejected', peer: PEER, error: new ProtocolError(ErrorCode.serverFull, 'full') });
    stats.chunkSent(3, 0);
    assert.equal(before.rejected, 1);
    assert.equal(before.chunks, 0);
    assert.deepEqual(before.errors, { ERR_SERVER_FULL: 1 });
  });
});

void describe('sumStats (the workers of a cluster)', () => {
  const first: StatsSnapshot = {
    clients: 1,
    accepted: 2,
    rejected: 3,
    closed: 4,
    chunks: 5,
    symbols: 6,
    statisticsAnswers: 7,
    blocked: 8,
    errors: { ERR_SERVER_FULL: 1, ERR_HEADER_JSON: 2 },
    connectionErrors: { ECONNRESET: 3 },
    internalErrors: 9,
    healthChecks: 1,
    tlsErrors: { ECONNRESET: 1 },
  };
  const second: StatsSnapshot = {
    clients: 10,
    accepted: 20,
    rejected: 30,
    closed: 40,
    chunks: 50,
    symbols: 60,
    statisticsAnswers: 70,
    blocked: 80,
    errors: { ERR_HEADER_JSON: 10, ERR_FRAME_TIMEOUT: 20 },
    connectionErrors: {},
    internalErrors: 90,
    healthChecks: 10,
    tlsErrors: { ECONNRESET: 2, ERR_SSL_WRONG_VERSION_NUMBER: 1 },
  };

  void it('adds up every counter, and the by-code counts code by code', () => {
    assert.deepEqual(sumStats([first, second]), {
      clients: 11,
      accepted: 22,
      rejected: 33,
      closed: 44,
      chunks: 55,
      symbols: 66,
      statisticsAnswers: 77,
      blocked: 88,
      errors: { ERR_SERVER_FULL: 1, ERR_HEADER_JSON: 12, ERR_FRAME_TIMEOUT: 20 },
      connectionErrors: { ECONNRESET: 3 },
      internalErrors: 99,
      healthChecks: 11,
      tlsErrors: { ECONNRESET: 3, ERR_SSL_WRONG_VERSION_NUMBER: 1 },
    });
  });

  void it('is zero for no worker, and the one snapshot for one', () => {
    assert.deepEqual(sumStats([]), ZERO);
    assert.deepEqual(sumStats([first]), first);
  });

  void it('sums what the workers recorded', () => {
    const a = recorded([{ type: 'accepted', peer: PEER, clients: 1 }]);
    const b = recorded([
      { type: 'accepted', peer: PEER, clients: 1 },
      { type: 'connection-error', peer: PEER, error: socketError('EPIPE') },
    ]);
    b.chunkSent(5, 0);
    const sum = sumStats([a.snapshot(1), b.snapshot(0)]);
    assert.deepEqual(sum, { ...ZERO, clients: 1, accepted: 2, chunks: 1, symbols: 5, connectionErrors: { EPIPE: 1 } });
  });

  void it('prints the same json stopped line as a single server would', () => {
    const line = serverLine('json', { type: 'stopped', forced: 2, stats: sumStats([first, second]) }) ?? '';
    const { time, ...rest } = JSON.parse(line) as { time: string };
    assert.match(time, /^\d{4}-\d\d-\d\dT/);
    assert.equal(
      JSON.stringify(rest),
      '{"event":"stopped","forced":2,"stats":{"clients":11,"accepted":22,"rejected":33,"closed":44,"chunks":55,"symbols":66,' +
        '"statistics_answers":77,"blocked":88,"errors":{"ERR_SERVER_FULL":1,"ERR_HEADER_JSON":12,"ERR_FRAME_TIMEOUT":20},' +
        '"connection_errors":{"ECONNRESET":3},"internal_errors":99,"health_checks":11,"tls_errors":{"ECONNRESET":3,"ERR_SSL_WRONG_VERSION_NUMBER":1}}}',
    );
  });
});
