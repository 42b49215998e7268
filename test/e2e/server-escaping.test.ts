/**
 * What a client sends reaches the server's output escaped: a hostile client's request, with
 * escape sequences, a forged line and C1 controls in its header and content, leaves no control
 * character in the server's debug or json output.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, describe, test } from 'node:test';
import { encodeFrame } from '../../src/protocol/encoder.js';
import { killAll, spawnListeningServer } from '../support/process.js';

after(async () => {
  await killAll();
});

// Retitles the window, clears the screen, forges a statistics line; U+009B is ESC [ to many terminals.
const HOSTILE = '\x1b]0;pwned\x07\x1b[2J\nStatistics: 999 symbols was delivered\r\u009b2J\x7f\u2028';
/** The control characters in a line (split at its newlines): C0, DEL, C1, and the line and paragraph separators. */
const controls = (line: string): string[] =>
  Array.from(line).filter((char) => {
    const code = char.codePointAt(0) as number;
    return code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029;
  });

async function sendHostileRequest(port: number): Promise<void> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  const content = Buffer.from(`x${HOSTILE}`, 'utf8');
  socket.write(
    encodeFrame(
      { byteorder: 'little', 'content-type': HOSTILE, 'content-encoding': 'binary', 'content-length': content.length, [HOSTILE]: HOSTILE },
      content,
    ),
  );
  // An unknown request is answered with an error frame and the connection stays open.
  await once(socket, 'data');
  socket.destroy();
}

describe('the server prints what a client sent escaped', { concurrency: true }, () => {
  for (const [mode, requestLine] of [
    ['debug', / received request b'x\\x1b\]0;pwned\\x07/],
    ['json', /"event":"request"/],
  ] as const) {
    test(`${mode} mode: no control character, no forged line`, async () => {
      const server = await spawnListeningServer('127.0.0.1', mode, ['--interval', '60']);
      await sendHostileRequest(server.port);
      await server.proc.waitForLine(requestLine);
      await server.proc.waitForLine(mode === 'json' ? /"event":"closed"/ : / closing connection after /);
      server.proc.kill('SIGTERM');
      assert.deepEqual(await server.proc.waitForExit(), { code: 0, signal: null }, server.proc.describe());
      for (const line of server.proc.out.lines) assert.deepEqual(controls(line), [], JSON.stringify(line));
      assert.ok(!server.proc.out.lines.some((line) => line.startsWith('Statistics')), server.proc.describe());
      if (mode === 'json') {
        const request = server.proc.out.lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((event) => event['event'] === 'request');
        const header = request?.['header'] as Record<string, unknown> | undefined;
        assert.equal(header?.['content-type'], HOSTILE, 'the header reads back as sent');
      }
    });
  }
});
