import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MODES } from '../../src/output/mode.js';
import { serverLine } from '../../src/output/server-lines.js';
import { ErrorCode, HeaderJsonError, ProtocolError } from '../../src/protocol/errors.js';
import type { FrameHeader } from '../../src/protocol/frame.js';
import type { Peer, ServerEvent } from '../../src/server/events.js';
import type { ProcessSnapshot, StatsSnapshot } from '../../src/server/stats.js';

const PEER: Peer = { id: 1, host: '127.0.0.1', port: 60174, family: 'IPv4', label: "('127.0.0.1', 60174)" };
const PEER6: Peer = { id: 2, host: '::1', port: 60175, family: 'IPv6', label: "('::1', 60175, 0, 0)" };
const REQUEST_HEADER = {
  byteorder: 'little',
  'content-type': 'binary/custom-client-binary-type',
  'content-encoding': 'binary',
  'content-length': 1,
} as FrameHeader;
const STATS: StatsSnapshot = {
  clients: 2,
  accepted: 5,
  rejected: 1,
  closed: 3,
  chunks: 40,
  symbols: 120,
  statisticsAnswers: 4,
  blocked: 1,
  errors: { ERR_HEADER_JSON: 1, ERR_SERVER_FULL: 1 },
  connectionErrors: { ECONNRESET: 1 },
  internalErrors: 0,
};
const PROCESS: ProcessSnapshot = { rssBytes: 52_428_800, heapUsedBytes: 10_485_760, heapAfterGcBytes: 8_388_608, resources: { TCPSocketWrap: 3, Timeout: 1 } };

const connReset = (): NodeJS.ErrnoException => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', errno: -104, syscall: 'read' });

type EventOf<K extends ServerEvent['type']> = Extract<ServerEvent, { type: K }>;

const chunk = (content: string, sleepTime: number, peer: Peer = PEER): EventOf<'chunk'> => ({
  type: 'chunk',
  peer,
  content: Buffer.from(content, 'latin1'),
  sleepTime,
  frameBytes: 150,
  lateMs: 0.42,
});

/** One example of every server event: a new event type fails to compile until it has one here. */
const EXAMPLES: { readonly [K in ServerEvent['type']]: EventOf<K> } = {
  listening: { type: 'listening', host: 'localhost', port: 65432, family: 'IPv4' },
  metrics: { type: 'metrics', host: '127.0.0.1', port: 9464 },
  accepted: { type: 'accepted', peer: PEER, clients: 1 },
  rejected: { type: 'rejected', peer: PEER, error: new ProtocolError(ErrorCode.serverFull, 'server full (10000 clients)') },
  scheduled: { type: 'scheduled', peer: PEER, wait: { ms: 3000, seconds: 3 } },
  chunk: chunk('td3kk', 3),
  request: { type: 'request', peer: PEER, header: REQUEST_HEADER, content: Buffer.from('s') },
  statistics: { type: 'statistics', peer: PEER, count: 8, content: Buffer.from('Statistics: 8 symbols was delivered'), frameBytes: 181 },
  'protocol-error': { type: 'protocol-error', peer: PEER, error: new HeaderJsonError(new SyntaxError('bad')) },
  blocked: { type: 'blocked', peer: PEER, queuedBytes: 65_536 },
  unblocked: { type: 'unblocked', peer: PEER, blockedMs: 12.5 },
  'peer-closed': { type: 'peer-closed', peer: PEER },
  'connection-error': { type: 'connection-error', peer: PEER, error: connReset() },
  'internal-error': { type: 'internal-error', peer: PEER, error: new TypeError('a fault of ours') },
  closed: { type: 'closed', peer: PEER, summary: { durationMs: 12_345, chunks: 3, symbols: 8, bytesRead: 128, bytesWritten: 631 } },
  shutdown: { type: 'shutdown', reason: 'server shutting down (SIGTERM)', signal: 'SIGTERM', clients: 2 },
  'process-error': { type: 'process-error', error: new RangeError('nobody caught this'), recovered: true },
  stats: { type: 'stats', stats: STATS, process: PROCESS },
  stopped: { type: 'stopped', forced: 1, stats: STATS },
};
const EVENTS: readonly ServerEvent[] = Object.values(EXAMPLES);
const PEER_EVENTS = EVENTS.filter((event) => 'peer' in event);

const {
  listening,
  accepted,
  scheduled,
  request,
  statistics,
  closed,
  'peer-closed': peerClosed,
  'protocol-error': protocolError,
  'connection-error': connectionError,
} = EXAMPLES;

void describe('serverLine, every event in every mode', () => {
  for (const mode of MODES) {
    void it(`formats every event in ${mode} mode: nothing thrown, no empty line, no undefined or NaN`, () => {
      for (const event of EVENTS) {
        const line = serverLine(mode, event);
        if (line === undefined) continue;
        assert.notEqual(line, '', `${mode} ${event.type}`);
        assert.doesNotMatch(line, /undefined|NaN|\[object /, `${mode} ${event.type}: ${line}`);
      }
    });
  }
});

void describe('serverLine in user mode', () => {
  void it("prints the original's listening line", () => {
    assert.equal(serverLine('user', listening), "listening on ('localhost', 65432)");
  });

  void it("prints the original's accept line", () => {
    assert.equal(serverLine('user', accepted), "accepted connection from ('127.0.0.1', 60174)");
  });

  void it("prints a chunk as the original's two lines", () => {
    assert.equal(serverLine('user', chunk('td3kk', 3)), "sleepy for a 3 seconds\nsending b'td3kk' to ('127.0.0.1', 60174)");
  });

  void it("says 'second' after a wait of exactly one second", () => {
    assert.equal(serverLine('user', chunk('A', 1)), "sleepy for a 1 second\nsending b'A' to ('127.0.0.1', 60174)");
  });

  void it('prints a fractional wait as the header states it', () => {
    assert.equal(serverLine('user', chunk('xy', 0.25)), "sleepy for a 0.25 seconds\nsending b'xy' to ('127.0.0.1', 60174)");
  });

  void it('prints an IPv6 peer as a Python 4-tuple', () => {
    assert.equal(serverLine('user', chunk('td3kk', 2, PEER6)), "sleepy for a 2 seconds\nsending b'td3kk' to ('::1', 60175, 0, 0)");
  });

  void it("prints the original's request and statistics lines", () => {
    assert.equal(serverLine('user', request), "received request from ('127.0.0.1', 60174)");
    assert.equal(serverLine('user', statistics), "sending b'Statistics: 8 symbols was delivered' to ('127.0.0.1', 60174)");
  });

  void it("prints the original's end-of-stream and closing lines", () => {
    assert.equal(serverLine('user', peerClosed), 'error: Peer closed');
    assert.equal(serverLine('user', closed), "closing connection to ('127.0.0.1', 60174)");
  });

  void it("prints a whole session as the original's transcript", () => {
    const events: ServerEvent[] = [listening, accepted, scheduled, chunk('td3kk', 3), chunk('Q', 1), request, statistics, peerClosed, closed];
    const transcript = events
      .map((event) => serverLine('user', event))
      .filter((line) => line !== undefined)
      .join('\n');
    assert.equal(
      transcript,
      [
        "listening on ('localhost', 65432)",
        "accepted connection from ('127.0.0.1', 60174)",
        'sleepy for a 3 seconds',
        "sending b'td3kk' to ('127.0.0.1', 60174)",
        'sleepy for a 1 second',
        "sending b'Q' to ('127.0.0.1', 60174)",
        "received request from ('127.0.0.1', 60174)",
        "sending b'Statistics: 8 symbols was delivered' to ('127.0.0.1', 60174)",
        'error: Peer closed',
        "closing connection to ('127.0.0.1', 60174)",
      ].join('\n'),
    );
  });

  void it('prints nothing for the schedule, which the original did not show', () => {
    assert.equal(serverLine('user', scheduled), undefined);
  });

  void it("prints the original's words on Ctrl-C first", () => {
    const line = serverLine('user', { type: 'shutdown', reason: 'interrupted', signal: 'SIGINT', clients: 2 });
    assert.equal(line?.split('\n')[0], 'Caught keyboard interrupt, exiting');
  });

  void it('prints errors with their code and the peer', () => {
    const line = serverLine('user', protocolError) ?? '';
    assert.match(line, /^error: /);
    assert.ok(line.includes('ERR_HEADER_JSON') && line.includes(PEER.label), line);
  });

  void it("prints a reset connection in Python's words", () => {
    assert.match(serverLine('user', connectionError) ?? '', /^error: \[Errno 104\] Connection reset by peer/);
  });
});

void describe('serverLine in quiet mode', () => {
  void it('shows neither chunks nor requests', () => {
    for (const event of [accepted, scheduled, chunk('td3kk', 3), request, statistics]) {
      assert.equal(serverLine('quiet', event), undefined, event.type);
    }
  });

  void it('still shows where it listens', () => {
    assert.equal(serverLine('quiet', listening), "listening on ('localhost', 65432)");
  });

  void it('shows errors', () => {
    assert.ok(serverLine('quiet', protocolError)?.includes('ERR_HEADER_JSON'));
    assert.ok(serverLine('quiet', connectionError)?.includes('[Errno 104] Connection reset by peer'));
  });
});

void describe('serverLine in debug mode', () => {
  void it('puts a timestamp and the peer on every line about a peer', () => {
    for (const event of PEER_EVENTS) {
      const line = serverLine('debug', event) ?? '';
      assert.match(line, /^\d{2}:\d{2}:\d{2}\.\d{3} /, event.type);
      assert.ok(line.includes(PEER.label), `${event.type}: ${line}`);
    }
  });

  void it('shows the chunk, its size and the wait before it', () => {
    const line = serverLine('debug', chunk('td3kk', 3)) ?? '';
    assert.ok(line.includes("b'td3kk'") && line.includes('sleepy for a 3 seconds') && line.includes('150 bytes'), line);
  });
});

void describe('serverLine in json mode', () => {
  for (const event of EVENTS) {
    void it(`prints ${event.type} as one line of JSON with event "${event.type}"`, () => {
      const line = serverLine('json', event);
      assert.ok(line !== undefined);
      assert.ok(!line.includes('\n'));
      const parsed = JSON.parse(line) as Record<string, unknown>;
      assert.equal(parsed['event'], event.type);
      assert.equal(typeof parsed['time'], 'string');
      assert.ok(!Number.isNaN(Date.parse(parsed['time'] as string)));
    });
  }

  void it('gives a chunk its symbols, wait and peer', () => {
    const parsed = JSON.parse(serverLine('json', chunk('td3kk', 3)) ?? '') as Record<string, unknown>;
    assert.equal(parsed['symbols'], 'td3kk');
    assert.equal(parsed['sleep_time'], 3);
    assert.deepEqual(parsed['peer'], { id: 1, host: '127.0.0.1', port: 60174 });
  });

  void it('gives a statistics answer its count', () => {
    const parsed = JSON.parse(serverLine('json', statistics) ?? '') as Record<string, unknown>;
    assert.equal(parsed['count'], 8);
  });

  void it('gives an error its stable code', () => {
    const parsed = JSON.parse(serverLine('json', protocolError) ?? '') as Record<string, unknown>;
    assert.equal(parsed['code'], 'ERR_HEADER_JSON');
  });

  void it('keeps a chunk of any bytes a valid JSON string', () => {
    const parsed = JSON.parse(serverLine('json', chunk('"\\\n\x00\xff', 1)) ?? '') as Record<string, unknown>;
    assert.equal(parsed['symbols'], '"\\\n\x00\xff');
  });
});
