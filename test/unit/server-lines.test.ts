import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serverLine } from '../../src/output/server-lines.js';
import { HeaderJsonError } from '../../src/protocol/errors.js';
import type { FrameHeader } from '../../src/protocol/frame.js';
import type { Peer, ServerEvent } from '../../src/server/events.js';

const PEER: Peer = { id: 1, host: '127.0.0.1', port: 60174, family: 'IPv4' };
const PEER6: Peer = { id: 2, host: '::1', port: 60175, family: 'IPv6' };
const REQUEST_HEADER = {
  byteorder: 'little',
  'content-type': 'binary/custom-client-binary-type',
  'content-encoding': 'binary',
  'content-length': 1,
} as FrameHeader;

const connReset = (): NodeJS.ErrnoException => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', errno: -104, syscall: 'read' });

const listening: ServerEvent = { type: 'listening', host: 'localhost', port: 65432, family: 'IPv4' };
const accepted: ServerEvent = { type: 'accepted', peer: PEER, clients: 1 };
const scheduled: ServerEvent = { type: 'scheduled', peer: PEER, wait: { ms: 3000, seconds: 3 } };
const chunk = (content: string, sleepTime: number, peer: Peer = PEER): ServerEvent => ({
  type: 'chunk',
  peer,
  content: Buffer.from(content, 'latin1'),
  sleepTime,
  frameBytes: 150,
  lateMs: 0.42,
});
const request: ServerEvent = { type: 'request', peer: PEER, header: REQUEST_HEADER, content: Buffer.from('s') };
const statistics: ServerEvent = {
  type: 'statistics',
  peer: PEER,
  count: 8,
  content: Buffer.from('Statistics: 8 symbols was delivered'),
  frameBytes: 181,
};
const peerClosed: ServerEvent = { type: 'peer-closed', peer: PEER };
const closed: ServerEvent = {
  type: 'closed',
  peer: PEER,
  summary: { durationMs: 12_345, chunks: 3, symbols: 8, bytesRead: 128, bytesWritten: 631 },
};
const protocolError: ServerEvent = { type: 'protocol-error', peer: PEER, error: new HeaderJsonError(new SyntaxError('bad')) };
const connectionError: ServerEvent = { type: 'connection-error', peer: PEER, error: connReset() };

const PEER_EVENTS: readonly ServerEvent[] = [accepted, scheduled, chunk('td3kk', 3), request, statistics, peerClosed, closed, protocolError, connectionError];

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
    assert.ok(line.includes('ERR_HEADER_JSON') && line.includes("('127.0.0.1', 60174)"), line);
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
      assert.ok(line.includes("('127.0.0.1', 60174)"), `${event.type}: ${line}`);
    }
  });

  void it('shows the chunk, its size and the wait before it', () => {
    const line = serverLine('debug', chunk('td3kk', 3)) ?? '';
    assert.ok(line.includes("b'td3kk'") && line.includes('sleepy for a 3 seconds') && line.includes('150 bytes'), line);
  });
});

void describe('serverLine in json mode', () => {
  const all: readonly ServerEvent[] = [listening, ...PEER_EVENTS, { type: 'shutdown', reason: 'terminated', signal: 'SIGTERM', clients: 0 }];

  for (const event of all) {
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
