import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MODES } from '../../src/output/mode.js';
import { listenFailedLine, serverLine, shutdownReason, type ListenFailure } from '../../src/output/server-lines.js';
import { ErrorCode, ProtocolError, ProxyHeaderError } from '../../src/protocol/errors.js';
import { TlsHandshakeError } from '../../src/transport/tls.js';
import type { FrameHeader } from '../../src/protocol/frame.js';
import type { Peer, ServerEvent } from '../../src/server/events.js';
import { LISTEN_FAILED, PEER, PROCESS, REQUEST_HEADER, SERVER_EVENTS, STATS, chunkEvent } from '../support/event-examples.js';

const PEER6: Peer = { id: 2, host: '::1', port: 60175, family: 'IPv6' };

const EVENTS: readonly ServerEvent[] = Object.values(SERVER_EVENTS);
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
  'health-check': healthCheck,
  'tls-error': tlsError,
  'tls-reloaded': tlsReloaded,
  'tls-reload-failed': tlsReloadFailed,
  'nothing-to-reload': nothingToReload,
} = SERVER_EVENTS;

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
    assert.equal(serverLine('user', chunkEvent('td3kk', 3)), "sleepy for a 3 seconds\nsending b'td3kk' to ('127.0.0.1', 60174)");
  });

  void it("says 'second' after a wait of exactly one second", () => {
    assert.equal(serverLine('user', chunkEvent('A', 1)), "sleepy for a 1 second\nsending b'A' to ('127.0.0.1', 60174)");
  });

  void it('prints a fractional wait as the header states it', () => {
    assert.equal(serverLine('user', chunkEvent('xy', 0.25)), "sleepy for a 0.25 seconds\nsending b'xy' to ('127.0.0.1', 60174)");
  });

  void it('prints an IPv6 peer as a Python 4-tuple', () => {
    assert.equal(serverLine('user', chunkEvent('td3kk', 2, PEER6)), "sleepy for a 2 seconds\nsending b'td3kk' to ('::1', 60175, 0, 0)");
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
    const events: ServerEvent[] = [listening, accepted, scheduled, chunkEvent('td3kk', 3), chunkEvent('Q', 1), request, statistics, peerClosed, closed];
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
    for (const event of [accepted, scheduled, chunkEvent('td3kk', 3), request, statistics]) {
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
    const line = serverLine('debug', chunkEvent('td3kk', 3)) ?? '';
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
    const parsed = JSON.parse(serverLine('json', chunkEvent('td3kk', 3)) ?? '') as Record<string, unknown>;
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
    const parsed = JSON.parse(serverLine('json', chunkEvent('"\\\n\x00\xff', 1)) ?? '') as Record<string, unknown>;
    assert.equal(parsed['symbols'], '"\\\n\x00\xff');
  });
});

const shutdown = (cause: string, clients: number, signal?: NodeJS.Signals): ServerEvent => ({ type: 'shutdown', reason: shutdownReason(cause), signal, clients });

void describe('server lines say each thing once', () => {
  void it('names the cause of a shutdown once, then the clients', () => {
    assert.equal(serverLine('quiet', shutdown('SIGTERM', 0, 'SIGTERM')), 'shutting down: SIGTERM (0 clients connected)');
    assert.equal(serverLine('quiet', shutdown('workers keep dying', 1)), 'shutting down: workers keep dying (1 client connected)');
    assert.equal(serverLine('quiet', { type: 'shutdown', reason: 'server shutting down', signal: undefined, clients: 2 }), 'shutting down (2 clients connected)');
    assert.equal(serverLine('user', shutdown('SIGINT', 2, 'SIGINT')), 'Caught keyboard interrupt, exiting\nshutting down: SIGINT (2 clients connected)');
    for (const mode of ['user', 'quiet', 'debug'] as const) {
      const line = serverLine(mode, shutdown('SIGTERM', 3, 'SIGTERM')) ?? '';
      assert.equal(line.split('shutting down').length - 1, 1, line);
    }
  });

  void it('tells the clients the cause in the shutdown frame', () => {
    assert.equal(shutdownReason('SIGTERM'), 'server shutting down (SIGTERM)');
    const parsed = JSON.parse(serverLine('json', shutdown('SIGTERM', 0, 'SIGTERM')) ?? '') as Record<string, unknown>;
    assert.equal(parsed['reason'], 'server shutting down (SIGTERM)');
  });

  void it('counts in the singular for one', () => {
    const one = { clients: 1, accepted: 1, rejected: 0, closed: 0, chunks: 1, symbols: 1, statisticsAnswers: 1, blocked: 0, errors: {}, connectionErrors: {}, internalErrors: 0, healthChecks: 0, tlsErrors: {} };
    const proc = { rssBytes: 1 << 20, heapUsedBytes: 1 << 20, heapAfterGcBytes: undefined, resources: {} };
    assert.match(serverLine('quiet', { type: 'stats', stats: one, process: proc }) ?? '', /; 1 chunk, 1 symbol, 1 statistics answer; /);
    const closedOne: ServerEvent = { type: 'closed', peer: PEER, summary: { durationMs: 1000, chunks: 1, symbols: 1, bytesRead: 1, bytesWritten: 1 } };
    assert.match(serverLine('debug', closedOne) ?? '', /: 1 chunk, 1 symbol, 1 byte read, 1 byte written$/);
    assert.match(serverLine('quiet', { type: 'stopped', forced: 1, stats: one }) ?? '', /^stopped \(1 slow client cut off\)$/);
  });

  void it('gives a protocol error its words once and its code once, in quiet and debug modes alike', () => {
    assert.equal(serverLine('quiet', protocolError), "error: header is not valid JSON (ERR_HEADER_JSON) from ('127.0.0.1', 60174)");
    assert.match(serverLine('debug', protocolError) ?? '', / \('127\.0\.0\.1', 60174\) error: header is not valid JSON \(ERR_HEADER_JSON\)$/);
  });
});

void describe('server lines print what a client sent escaped, in every mode', () => {
  // What a hostile client can put in a request: escape sequences that retitle the window and
  // clear the screen, a newline that forges a line, C1 controls (U+009B is ESC [), DEL, and the
  // separators some log viewers break lines at.
  const hostile = '\x1b]0;pwned\x07\x1b[2J\n\rStatistics: 9 symbols was delivered\u009b31m\x7f\u2028\u2029';
  const header = { ...REQUEST_HEADER, 'content-type': hostile, [hostile]: [hostile, { nested: hostile }] } as FrameHeader;
  const content = Buffer.from(`s${hostile}\x9b\xff`, 'latin1');
  const events: ServerEvent[] = [
    { type: 'request', peer: PEER, header, content },
    { type: 'chunk', peer: PEER, content, sleepTime: 1, frameBytes: 200, lateMs: 0 },
  ];
  /** The control characters in a line: C0, DEL, C1, and the line and paragraph separators. */
  const controls = (line: string): string[] =>
    Array.from(line).filter((char) => {
      const code = char.codePointAt(0) as number;
      return code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029;
    });

  for (const mode of MODES) {
    void it(`${mode}: no control character reaches the output, and no line is forged`, () => {
      for (const event of events) {
        const text = serverLine(mode, event);
        if (text === undefined) continue;
        for (const line of text.split('\n')) assert.deepEqual(controls(line), [], `${mode} ${event.type}: ${JSON.stringify(line)}`);
        assert.ok(!text.split('\n').some((line) => line.startsWith('Statistics')), text);
      }
    });
  }

  void it('debug: shows the header as escaped JSON and the content as Python bytes', () => {
    const line = serverLine('debug', { type: 'request', peer: PEER, header: REQUEST_HEADER, content: Buffer.from('s') }) ?? '';
    assert.match(
      line,
      / \('127\.0\.0\.1', 60174\) received request b's', header \{"byteorder":"little","content-type":"binary\/custom-client-binary-type","content-encoding":"binary","content-length":1\}$/,
    );
    assert.ok((serverLine('debug', events[0] as ServerEvent) ?? '').includes(String.raw`\u001b]0;pwned\u0007\u001b[2J\n\rStatistics: 9 symbols was delivered\u009b31m\u007f\u2028\u2029`));
  });

  void it('json: escapes the C1 controls, DEL and U+2028/9 too, and reads back as sent', () => {
    const line = serverLine('json', events[0] as ServerEvent) ?? '';
    assert.ok(line.includes(String.raw`\u009b31m\u007f\u2028\u2029`), line);
    const parsed = JSON.parse(line) as { header: unknown; content: string };
    assert.deepEqual(parsed.header, header);
    assert.equal(parsed.content, content.toString('latin1'));
  });
});

void describe('a listener that cannot be opened', () => {
  const metrics: ListenFailure = { ...LISTEN_FAILED, listener: 'metrics', host: '::1', port: 9100 };

  void it('names the listener, its address, the reason in the system words and what to do', () => {
    assert.equal(
      listenFailedLine('quiet', LISTEN_FAILED),
      "cannot listen on ('127.0.0.1', 8000): [Errno 98] Address already in use (another program holds port 8000: stop it, or choose another port; 0 picks a free one)",
    );
    assert.equal(
      listenFailedLine('user', metrics),
      'cannot serve metrics on http://[::1]:9100/metrics: [Errno 98] Address already in use (another program holds port 9100: stop it, or choose another --metrics port; 0 picks a free one)',
    );
  });

  void it('gives advice for an address not of this machine, a privileged port and an unknown name', () => {
    const failure = (code: string, host: string, port: number): ListenFailure => ({ type: 'listen-failed', listener: 'server', host, port, error: Object.assign(new Error(code), { code }) });
    assert.match(listenFailedLine('user', failure('EADDRNOTAVAIL', '10.9.9.9', 8000)), /\[Errno 99\] Cannot assign requested address \(10\.9\.9\.9 is not an address of this machine/);
    assert.match(listenFailedLine('user', failure('EACCES', '127.0.0.1', 80)), /\[Errno 13\] Permission denied \(ports below 1024 need privileges/);
    assert.match(listenFailedLine('user', failure('ENOTFOUND', 'nowhere.invalid', 8000)), /the host name nowhere\.invalid could not be resolved/);
    assert.equal(listenFailedLine('user', failure('EOTHER', '127.0.0.1', 8000)), "cannot listen on ('127.0.0.1', 8000): EOTHER");
  });

  void it('is one JSON object in json mode', () => {
    const parsed = JSON.parse(listenFailedLine('json', metrics)) as Record<string, unknown>;
    assert.deepEqual(
      { ...parsed, time: undefined },
      { time: undefined, event: 'listen-failed', listener: 'metrics', host: '::1', port: 9100, code: 'EADDRINUSE', message: '[Errno 98] Address already in use' },
    );
  });
});

void describe('json keys', () => {
  void it('are snake_case in the counters too; the maps keep their data keys', () => {
    const stats = { clients: 0, accepted: 2, rejected: 0, closed: 2, chunks: 3, symbols: 9, statisticsAnswers: 1, blocked: 0, errors: { ERR_HEADER_JSON: 1 }, connectionErrors: { ECONNRESET: 1 }, internalErrors: 0, healthChecks: 0, tlsErrors: {} };
    const proc = { rssBytes: 1, heapUsedBytes: 2, heapAfterGcBytes: 3, resources: { TCPServerWrap: 1 } };
    const parsed = JSON.parse(serverLine('json', { type: 'stats', stats, process: proc }) ?? '') as { stats: Record<string, unknown>; process: Record<string, unknown> };
    assert.equal(parsed.stats['statistics_answers'], 1);
    assert.deepEqual(parsed.stats['connection_errors'], { ECONNRESET: 1 });
    assert.deepEqual(parsed.stats['errors'], { ERR_HEADER_JSON: 1 });
    assert.equal(parsed.process['heap_after_gc_bytes'], 3);
    assert.deepEqual(parsed.process['resources'], { TCPServerWrap: 1 });
  });

  void it("give a socket error's message in the system's words, as the text modes do", () => {
    const parsed = JSON.parse(serverLine('json', connectionError) ?? '') as Record<string, unknown>;
    assert.deepEqual([parsed['code'], parsed['message']], ['ECONNRESET', '[Errno 104] Connection reset by peer']);
  });
});

void describe('serverLine: TLS, the PROXY protocol and the per-address limit', () => {
  void it('shows a failed handshake in every mode but json as an error line with the peer, the reason and the code', () => {
    for (const mode of ['user', 'quiet'] as const) {
      assert.equal(serverLine(mode, tlsError), "error: TLS handshake failed from ('127.0.0.1', 60174): wrong version number (ERR_SSL_WRONG_VERSION_NUMBER)");
    }
    assert.match(serverLine('debug', tlsError) ?? '', /^\S+ \('127\.0\.0\.1', 60174\) error: TLS handshake failed: wrong version number \(ERR_SSL_WRONG_VERSION_NUMBER\)$/);
    assert.deepEqual(pick(serverLine('json', tlsError), 'code', 'message'), { code: 'ERR_SSL_WRONG_VERSION_NUMBER', message: 'wrong version number' });
  });

  void it('escapes control characters in a handshake error and a certificate subject', () => {
    const hostile = { ...tlsError, error: new TlsHandshakeError('ERR_X', 'bad\x1b[2Jthing\u009b\n') };
    for (const mode of ['user', 'quiet', 'debug'] as const) {
      const line = serverLine(mode, hostile) ?? '';
      const controls = Array.from(line).filter((char) => (char.codePointAt(0) as number) < 0x20 || ((char.codePointAt(0) as number) >= 0x7f && (char.codePointAt(0) as number) <= 0x9f));
      assert.deepEqual(controls, [], `${mode}: ${line}`);
      assert.ok(line.includes('bad\\u001b[2Jthing\\u009b\\u000a'), line);
    }
    const subject = { ...tlsReloaded, certificate: { ...tlsReloaded.certificate, subject: 'CN=evil\rname' } };
    assert.ok(serverLine('user', subject)?.includes('CN=evil\\u000dname'));
  });

  void it('says a health check in debug and json only: it is not a client', () => {
    assert.equal(serverLine('user', healthCheck), undefined);
    assert.equal(serverLine('quiet', healthCheck), undefined);
    assert.match(serverLine('debug', healthCheck) ?? '', /health check \(PROXY v2 LOCAL\): closed, not a client$/);
    assert.deepEqual(pick(serverLine('json', healthCheck), 'event', 'peer'), { event: 'health-check', peer: { id: 1, host: '127.0.0.1', port: 60174 } });
  });

  void it('says what a reload did, for one server and for the workers', () => {
    assert.equal(serverLine('user', tlsReloaded), 'reloaded the TLS certificate and key for new connections: CN=localhost, valid until 2027-01-01T12:30:00Z');
    assert.equal(
      serverLine('quiet', { ...tlsReloaded, workers: 3 }),
      'reloaded the TLS certificate and key for new connections (3 workers): CN=localhost, valid until 2027-01-01T12:30:00Z',
    );
    assert.match(serverLine('debug', tlsReloaded) ?? '', /valid until 2027-01-01T12:30:00Z, SHA-256 AB:CD$/);
    assert.deepEqual(pick(serverLine('json', tlsReloaded), 'subject', 'valid_until', 'fingerprint'), { subject: 'CN=localhost', valid_until: '2027-01-01T12:30:00Z', fingerprint: 'AB:CD' });
    assert.equal(
      serverLine('quiet', tlsReloadFailed),
      "error: TLS reload failed, still using the previous certificate and key: cannot read --tls-key 'key.pem': no such file or directory (ENOENT)",
    );
    assert.match(serverLine('user', { ...tlsReloadFailed, workers: { failed: 1, of: 2 } }) ?? '', /^error: TLS reload failed \(in 1 of 2 workers\), still using/);
    assert.equal(serverLine('user', nothingToReload), 'SIGHUP: nothing to reload (no --tls-cert); the server carries on');
  });

  void it('names the limit a refused client hit, and a PROXY header refused', () => {
    const perAddress = { ...SERVER_EVENTS.rejected, error: new ProtocolError(ErrorCode.serverFull, 'too many clients from 10.1.2.3 (5)') };
    assert.equal(serverLine('quiet', perAddress), "error: too many clients from 10.1.2.3 (5) (ERR_SERVER_FULL) from ('127.0.0.1', 60174)");
    const proxy = { ...SERVER_EVENTS.rejected, error: new ProxyHeaderError('no PROXY protocol header received within 10 s') };
    assert.equal(serverLine('user', proxy), "error: no PROXY protocol header received within 10 s (ERR_PROXY_HEADER) from ('127.0.0.1', 60174)");
  });

  void it('adds TLS errors and health checks to the stats line only when there are some', () => {
    const line = serverLine('quiet', { type: 'stats', stats: STATS, process: PROCESS }) ?? '';
    assert.match(line, / 3 closed, 2 health checks; /);
    assert.match(line, /; TLS errors: ERR_TLS_HANDSHAKE_TIMEOUT 1; /);
    const plain = serverLine('quiet', { type: 'stats', stats: { ...STATS, healthChecks: 0, tlsErrors: {} }, process: PROCESS }) ?? '';
    assert.doesNotMatch(plain, /TLS|health/);
  });
});

function pick(line: string | undefined, ...keys: string[]): Record<string, unknown> {
  const parsed = JSON.parse(line ?? '{}') as Record<string, unknown>;
  return Object.fromEntries(keys.map((key) => [key, parsed[key]]));
}
