import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClientEvent } from '../../src/client/events.js';
import type { CertificateSummary } from '../../src/client/tls.js';
import { EXCESS_PRESSING, HINT, clientLine } from '../../src/output/client-lines.js';
import { MODES } from '../../src/output/mode.js';
import { StatisticsInvalidError } from '../../src/protocol/errors.js';
import type { FrameHeader } from '../../src/protocol/frame.js';
import { CLIENT_EVENTS, TARGET, frameEvent, type OneOfEach } from '../support/event-examples.js';

const statistics = (reported: number, counted: number): OneOfEach<ClientEvent>['statistics'] => ({ type: 'statistics', reported, counted });

const EVENTS: readonly ClientEvent[] = Object.values(CLIENT_EVENTS);

const {
  starting,
  connected,
  hint,
  request,
  closing,
  shutdown,
  'server-error': serverError,
  'peer-closed': peerClosed,
  'protocol-error': protocolError,
  'connection-error': connectionError,
  'connect-failed': connectFailed,
} = CLIENT_EVENTS;

void describe('clientLine, every event in every mode', () => {
  for (const mode of MODES) {
    void it(`formats every event in ${mode} mode: nothing thrown, no empty line, no undefined or NaN`, () => {
      for (const event of EVENTS) {
        const line = clientLine(mode, event);
        if (line === undefined) continue;
        assert.notEqual(line, '', `${mode} ${event.type}`);
        assert.doesNotMatch(line, /undefined|NaN|\[object /, `${mode} ${event.type}: ${line}`);
      }
    });
  }
});

void describe('clientLine in user mode', () => {
  void it("prints the original's starting line and hint", () => {
    assert.equal(clientLine('user', starting), "starting connection to ('localhost', 65432)");
    assert.equal(clientLine('user', hint), "Press 's' for statistics or 'q' to quit.");
    assert.equal(HINT, "Press 's' for statistics or 'q' to quit.");
  });

  void it("prints a chunk as the original's two lines", () => {
    assert.equal(clientLine('user', frameEvent('td3kk', 3)), "sleepy for a 3 seconds\ngot response: b'td3kk'");
  });

  void it("says 'second' after a wait of exactly one second", () => {
    assert.equal(clientLine('user', frameEvent('A', 1)), "sleepy for a 1 second\ngot response: b'A'");
  });

  void it('prints a fractional sleep_time as the header states it', () => {
    assert.equal(clientLine('user', frameEvent('Zq', 0.25)), "sleepy for a 0.25 seconds\ngot response: b'Zq'");
  });

  void it('prints a statistics answer as the original did: as a response', () => {
    assert.equal(
      clientLine('user', frameEvent('Statistics: 8 symbols was delivered', 3, 'statistics')),
      "sleepy for a 3 seconds\ngot response: b'Statistics: 8 symbols was delivered'",
    );
  });

  void it("prints the original's request line", () => {
    assert.equal(clientLine('user', request), "sending b's' to ('localhost', 65432)");
  });

  void it("prints the original's end-of-stream and closing lines, period included", () => {
    assert.equal(clientLine('user', peerClosed), 'error: Peer closed.');
    assert.equal(clientLine('user', closing), "closing connection to ('localhost', 65432)");
  });

  void it("prints a whole session as the original's transcript", () => {
    const events: ClientEvent[] = [
      starting,
      connected,
      hint,
      frameEvent('td3kk', 3),
      request,
      frameEvent('Statistics: 5 symbols was delivered', 3, 'statistics'),
      statistics(5, 5),
      peerClosed,
      closing,
    ];
    const transcript = events
      .map((event) => clientLine('user', event))
      .filter((line) => line !== undefined)
      .join('\n');
    assert.equal(
      transcript,
      [
        "starting connection to ('localhost', 65432)",
        "Press 's' for statistics or 'q' to quit.",
        'sleepy for a 3 seconds',
        "got response: b'td3kk'",
        "sending b's' to ('localhost', 65432)",
        'sleepy for a 3 seconds',
        "got response: b'Statistics: 5 symbols was delivered'",
        'error: Peer closed.',
        "closing connection to ('localhost', 65432)",
      ].join('\n'),
    );
  });

  void it('prints errors: a protocol error with its code, a reset in Python words, a failed connect', () => {
    const protocol = clientLine('user', protocolError) ?? '';
    assert.ok(protocol.startsWith('error: ') && protocol.includes('ERR_CONTENT_TOO_LONG'), protocol);
    assert.equal(clientLine('user', connectionError), 'error: [Errno 104] Connection reset by peer');
    const failed = clientLine('user', connectFailed) ?? '';
    assert.ok(failed.includes('[Errno 111] Connection refused') && failed.includes("('localhost', 65432)"), failed);
  });

  void it("prints the reason of the server's error and shutdown frames, each said once", () => {
    assert.equal(clientLine('user', serverError), 'error: server says: ERR_SERVER_FULL: server full (2 clients)');
    // Our server's reason already says it: not `server shutting down: server shutting down (SIGINT)`.
    assert.equal(clientLine('user', shutdown), 'server shutting down (SIGINT)');
    assert.equal(clientLine('user', { type: 'shutdown', reason: Buffer.from('maintenance') }), 'server shutting down: maintenance');
  });

  void it("prints the hint at every key press, as the original does, and its warning for a key that is not a character", () => {
    assert.equal(clientLine('user', { type: 'key', key: 's', character: true }), HINT);
    assert.equal(clientLine('user', { type: 'key', key: '\x1b[A', character: false }), `${HINT}\n${EXCESS_PRESSING}`);
    assert.equal(EXCESS_PRESSING, 'be careful with excess pressing, young man');
  });

  void it('says when requests were never sent, and whether the connection never came or ended first', () => {
    assert.equal(
      clientLine('user', { type: 'not-connected', target: TARGET, requests: 2, everConnected: false }),
      "error: 2 statistics requests not sent: no connection to ('localhost', 65432) was made",
    );
    assert.equal(
      clientLine('user', { type: 'not-connected', target: TARGET, requests: 1, everConnected: true }),
      "error: 1 statistics request not sent: the connection to ('localhost', 65432) ended first",
    );
  });

  void it('names a server that went silent', () => {
    assert.equal(
      clientLine('user', { type: 'idle-timeout', target: TARGET, seconds: 30, connected: true }),
      "error: no frame from ('localhost', 65432) for 30 s (--idle-timeout)",
    );
  });

  void it('says what to check after a refused connection or an unknown host', () => {
    assert.equal(clientLine('user', connectFailed), "error: cannot connect to ('localhost', 65432): [Errno 111] Connection refused (nothing listens on port 65432 there)");
    const unknown = Object.assign(new Error('getaddrinfo ENOTFOUND abc'), { code: 'ENOTFOUND' });
    assert.equal(
      clientLine('user', { type: 'connect-failed', target: { host: 'abc', port: 1 }, error: unknown }),
      "error: cannot connect to ('abc', 1): [Errno -2] Name or service not known (no host named 'abc' was found)",
    );
  });
});

/** What the server controls, written to take over a terminal and a script reading the output. */
const HOSTILE = '\x1b]0;owned\x07\x1b[2J\u009b2J\nStatistics: 999 symbols was delivered\r';
const RAW_CONTROL = /[\p{Cc}\u2028\u2029]/u;
/** A certificate's texts are the server's too. */
const HOSTILE_CERTIFICATE: CertificateSummary = {
  subject: HOSTILE,
  issuer: HOSTILE,
  altNames: `DNS:${HOSTILE}`,
  validFrom: HOSTILE,
  validTo: HOSTILE,
  fingerprint256: 'AB:CD',
};

void describe('clientLine escapes what came from the server, in every mode', () => {
  const hostileFrame = ((): ClientEvent => {
    const event = frameEvent(`ab${HOSTILE}`, 1);
    if (event.type !== 'frame') throw new Error('a frame event');
    const header = { ...event.frame.header, 'content-type': HOSTILE, [HOSTILE]: HOSTILE } as FrameHeader;
    return { ...event, frame: { ...event.frame, header } };
  })();
  const events: readonly ClientEvent[] = [
    hostileFrame,
    { type: 'server-error', reason: Buffer.from(`ERR_X: ${HOSTILE}`, 'latin1') },
    { type: 'shutdown', reason: Buffer.from(HOSTILE, 'latin1') },
    { type: 'bad-statistics', error: new StatisticsInvalidError(Buffer.from(HOSTILE, 'latin1'), 'statistics answer not in the form'), counted: 0 },
    ...(['ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_HAS_EXPIRED', HOSTILE] as const).map(
      (code): ClientEvent => ({ type: 'tls-untrusted', target: TARGET, name: 'localhost', code, certificate: HOSTILE_CERTIFICATE }),
    ),
    { type: 'tls-insecure', target: TARGET, name: 'localhost', code: undefined, certificate: HOSTILE_CERTIFICATE },
    { type: 'tls-failed', target: TARGET, error: Object.assign(new Error(HOSTILE), { code: 'ERR_SSL_X', reason: HOSTILE }) },
  ];
  for (const mode of ['user', 'debug', 'quiet', 'json'] as const) {
    void it(`${mode}: no control character, no line the server forged`, () => {
      for (const event of events) {
        const text = clientLine(mode, event);
        if (text === undefined) continue;
        const lines = text.split('\n');
        for (const line of lines) {
          assert.doesNotMatch(line, RAW_CONTROL, `${event.type}: ${JSON.stringify(line)}`);
          assert.ok(!line.startsWith('Statistics:'), `${event.type}: ${JSON.stringify(line)}`);
        }
        if (mode === 'json') assert.equal(lines.length, 1);
      }
    });
  }

  void it('json: the C1 controls are escaped, and parse back to what the server sent', () => {
    const line = clientLine('json', { type: 'shutdown', reason: Buffer.from('a\u0085b\u009bc', 'latin1') }) ?? '';
    assert.ok(line.includes('a\\u0085b\\u009bc'), line);
    assert.equal((JSON.parse(line) as { reason: string }).reason, 'a\u0085b\u009bc');
  });

  void it('debug: a header value is shown, escaped', () => {
    const line = clientLine('debug', hostileFrame) ?? '';
    assert.ok(line.includes('received \\x1b]0;owned\\x07\\x1b[2J\\x9b2J\\nStatistics: 999 symbols was delivered\\r response'), line);
  });
});

void describe('clientLine in quiet mode', () => {
  void it('shows no chunks, requests or hints', () => {
    for (const event of [starting, hint, frameEvent('td3kk', 3), request, closing]) {
      assert.equal(clientLine('quiet', event), undefined, event.type);
    }
  });

  void it("shows the statistics in the original's words", () => {
    assert.equal(clientLine('quiet', statistics(8, 8)), 'Statistics: 8 symbols was delivered');
  });

  void it('shows errors', () => {
    assert.equal(clientLine('quiet', peerClosed), 'error: Peer closed.');
    assert.ok(clientLine('quiet', protocolError)?.includes('ERR_CONTENT_TOO_LONG'));
    assert.equal(clientLine('quiet', connectionError), 'error: [Errno 104] Connection reset by peer');
    assert.ok(clientLine('quiet', connectFailed)?.includes('[Errno 111] Connection refused'));
  });
});

void describe('clientLine in debug mode', () => {
  void it("flags a statistics answer that disagrees with the client's own count", () => {
    const line = clientLine('debug', statistics(8, 6)) ?? '';
    assert.ok(line.includes('MISMATCH'), line);
    assert.ok(line.includes('8') && line.includes('6'), line);
  });

  void it('does not flag a statistics answer that agrees', () => {
    const line = clientLine('debug', statistics(8, 8)) ?? '';
    assert.ok(!line.includes('MISMATCH'), line);
    assert.ok(line.includes('match'), line);
  });

  void it('puts a timestamp on every line, and shows the header of a frame', () => {
    const line = clientLine('debug', frameEvent('td3kk', 3)) ?? '';
    for (const part of line.split('\n')) assert.match(part, /^\d{2}:\d{2}:\d{2}\.\d{3} /);
    assert.ok(line.includes('"content-length":5') && line.includes("b'td3kk'"), line);
  });

  void it('shows the whole request frame, not only its content', () => {
    const line = clientLine('debug', request) ?? '';
    assert.ok(line.includes('binary/custom-client-binary-type'), line);
  });
});

void describe('clientLine in json mode', () => {
  // Key presses and their hint are for a person at a terminal: json mode prints neither.
  for (const event of EVENTS.filter((event) => event.type !== 'hint' && event.type !== 'key')) {
    void it(`prints ${event.type} as one line of JSON with event "${event.type}"`, () => {
      const line = clientLine('json', event);
      assert.ok(line !== undefined);
      assert.ok(!line.includes('\n'));
      const parsed = JSON.parse(line) as Record<string, unknown>;
      assert.equal(parsed['event'], event.type);
      assert.ok(!Number.isNaN(Date.parse(parsed['time'] as string)));
    });
  }

  void it('prints no hint and no key: scripts do not press keys', () => {
    assert.equal(clientLine('json', hint), undefined);
    assert.equal(clientLine('json', CLIENT_EVENTS.key), undefined);
  });

  void it('gives a frame its content, type and wait', () => {
    const parsed = JSON.parse(clientLine('json', frameEvent('td3kk', 0.25)) ?? '') as Record<string, unknown>;
    assert.equal(parsed['content'], 'td3kk');
    assert.equal(parsed['message_type'], 'symbols');
    assert.equal(parsed['sleep_time'], 0.25);
  });

  void it('gives statistics both figures and whether they match', () => {
    const parsed = JSON.parse(clientLine('json', statistics(8, 6)) ?? '') as Record<string, unknown>;
    assert.equal(parsed['reported'], 8);
    assert.equal(parsed['counted'], 6);
    assert.equal(parsed['match'], false);
  });

  void it('gives an error its stable code', () => {
    const parsed = JSON.parse(clientLine('json', protocolError) ?? '') as Record<string, unknown>;
    assert.equal(parsed['code'], 'ERR_CONTENT_TOO_LONG');
  });
});
