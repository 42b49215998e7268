import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClientEvent, Target } from '../../src/client/events.js';
import { HINT, clientLine } from '../../src/output/client-lines.js';
import { MODES } from '../../src/output/mode.js';
import { ContentTooLongError } from '../../src/protocol/errors.js';
import type { Frame, FrameHeader, MessageType } from '../../src/protocol/frame.js';
import { encodeClientRequest } from '../../src/protocol/messages.js';

const TARGET: Target = { host: 'localhost', port: 65432 };

type EventOf<K extends ClientEvent['type']> = Extract<ClientEvent, { type: K }>;

function frameEvent(content: string, sleepTime: number | undefined, messageType: MessageType = 'symbols'): EventOf<'frame'> {
  const body = Buffer.from(content, 'latin1');
  const header = {
    byteorder: 'little',
    'content-type': 'binary/custom-server-binary-type',
    'content-encoding': 'binary',
    'content-length': body.length,
    ...(sleepTime === undefined ? {} : { sleep_time: sleepTime }),
  } as FrameHeader;
  const frame: Frame = { header, content: body, size: 150 };
  return { type: 'frame', target: TARGET, frame, messageType };
}

const connReset = (): NodeJS.ErrnoException => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', errno: -104, syscall: 'read' });
const connRefused = (): NodeJS.ErrnoException =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:65432'), { code: 'ECONNREFUSED', errno: -111, syscall: 'connect' });
const statistics = (reported: number, counted: number): EventOf<'statistics'> => ({ type: 'statistics', reported, counted });

/** One example of every client event: a new event type fails to compile until it has one here. */
const EXAMPLES: { readonly [K in ClientEvent['type']]: EventOf<K> } = {
  starting: { type: 'starting', target: TARGET },
  connected: { type: 'connected', target: TARGET, local: "('127.0.0.1', 60174)", remote: "('127.0.0.1', 65432)" },
  hint: { type: 'hint' },
  frame: frameEvent('td3kk', 3),
  statistics: statistics(8, 6),
  request: { type: 'request', target: TARGET, request: Buffer.from('s'), frame: encodeClientRequest() },
  'server-error': { type: 'server-error', reason: 'server full' },
  shutdown: { type: 'shutdown', reason: 'server stopping' },
  'peer-closed': { type: 'peer-closed' },
  'protocol-error': { type: 'protocol-error', error: new ContentTooLongError(5_000_000, 1_048_576) },
  'connection-error': { type: 'connection-error', error: connReset() },
  'connect-failed': { type: 'connect-failed', target: TARGET, error: connRefused() },
  reconnecting: { type: 'reconnecting', target: TARGET, attempt: 2, attempts: 0, delayMs: 1300 },
  'not-connected': { type: 'not-connected' },
  closing: { type: 'closing', target: TARGET },
};
const EVENTS: readonly ClientEvent[] = Object.values(EXAMPLES);

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
} = EXAMPLES;

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

  void it("prints the reason of the server's error and shutdown frames", () => {
    assert.ok(clientLine('user', serverError)?.includes('server full'));
    assert.ok(clientLine('user', shutdown)?.includes('server stopping'));
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
  for (const event of EVENTS.filter((event) => event.type !== 'hint')) {
    void it(`prints ${event.type} as one line of JSON with event "${event.type}"`, () => {
      const line = clientLine('json', event);
      assert.ok(line !== undefined);
      assert.ok(!line.includes('\n'));
      const parsed = JSON.parse(line) as Record<string, unknown>;
      assert.equal(parsed['event'], event.type);
      assert.ok(!Number.isNaN(Date.parse(parsed['time'] as string)));
    });
  }

  void it('prints no hint: scripts do not press keys', () => {
    assert.equal(clientLine('json', hint), undefined);
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
