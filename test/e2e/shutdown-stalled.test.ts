/**
 * SIGTERM with a stalled client among healthy ones, against the built server.
 *
 * The stalled client connects and never reads: its socket is paused, so the kernel's buffers
 * fill, then the server's own queue for it. On SIGTERM the healthy clients must get their
 * `shutdown` frame and be closed at once, while the stalled one, which will never read its
 * frame, is destroyed when the shutdown timeout runs out; the server then exits 0.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { after, describe, test } from 'node:test';
import { FrameDecoder } from '../../src/protocol/decoder.js';
import { MessageType, SERVER_HEADER_KEYS } from '../../src/protocol/frame.js';
import { messageTypeOf } from '../../src/protocol/messages.js';
import { MAX_CHUNK_LENGTH } from '../../src/protocol/defaults.js';
import { assertServerHeader, RawClient } from '../support/net.js';
import { withTimeout } from '../support/wait.js';
import { killAll, spawnClient, spawnListeningServer, type ListeningServer } from '../support/process.js';

after(async () => {
  await killAll();
});

const CHARS = 60_000;
/** 60 kB chunks every 50-100 ms: about 0.8 MB a second to each client. */
const SERVER_OPTIONS = ['--interval', '0.05-0.1', '--chars', `${CHARS}-${CHARS}`] as const;
/**
 * Chunks a healthy client receives before the signal. The stalled client is offered as many on
 * its own, statistically identical, schedule: about 4.8 MB, more than the roughly 4 MB the
 * kernel buffers of a loopback connection hold, so by then the server is queueing for it too.
 * (Checked afterwards: the stalled stream must lack the shutdown frame.)
 */
const CHUNKS_BEFORE_SIGNAL = 80;
/** What the server's stop may take beyond its shutdown timeout on a busy machine. */
const MARGIN_MS = 1_500;

/** A client that connects and never reads. */
async function stalledClient(port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.pause();
  socket.on('error', () => undefined);
  await withTimeout(once(socket, 'connect'), 3_000, 'the stalled client to connect');
  return socket;
}

/** Resumes a stalled socket and reads it to its end: what it had been sent, as frames. */
async function readToEnd(socket: Socket): Promise<{ types: string[]; bytes: number; cutMidFrame: boolean }> {
  const decoder = new FrameDecoder({ maxHeaderLength: 1024, maxContentLength: MAX_CHUNK_LENGTH, requiredKeys: SERVER_HEADER_KEYS });
  const types: string[] = [];
  let bytes = 0;
  socket.on('data', (data: Buffer) => {
    bytes += data.length;
    decoder.push(data, (frame) => void types.push(messageTypeOf(frame)));
  });
  const closed = once(socket, 'close');
  socket.resume();
  await withTimeout(closed, 5_000, 'the stalled socket to reach its end');
  return { types, bytes, cutMidFrame: decoder.midFrame };
}

/** The next line matching `pattern` on the server's output and when it came (performance.now()). */
async function lineAt(server: ListeningServer, pattern: RegExp, timeoutMs: number): Promise<{ match: RegExpMatchArray; at: number }> {
  const match = await server.proc.waitForLine(pattern, { timeoutMs });
  return { match, at: performance.now() };
}

/** Both lines of a stop, each timed as it arrives: the waits start before either can come. */
function stopLines(server: ListeningServer, shutdownTimeoutMs: number): [ReturnType<typeof lineAt>, ReturnType<typeof lineAt>] {
  const shutdown = lineAt(server, /^shutting down: /, 3_000);
  const stopped = lineAt(server, /^stopped/, shutdownTimeoutMs + MARGIN_MS + 2_000);
  // Awaited in turn below; a failure of the second while the first is awaited is reported there.
  stopped.catch(() => undefined);
  return [shutdown, stopped];
}

describe('SIGTERM with a stalled client among healthy ones', { concurrency: true }, () => {
  test('healthy clients get the shutdown frame and close; the stalled one is cut off at the shutdown timeout; exit 0', async () => {
    const shutdownTimeoutMs = 1_000;
    const server = await spawnListeningServer('127.0.0.1', 'quiet', [...SERVER_OPTIONS, '--shutdown-timeout', String(shutdownTimeoutMs / 1000)]);
    const stalled = await stalledClient(server.port);
    const raw = await RawClient.connect(server.port);
    const child = spawnClient(['127.0.0.1', String(server.port), 'quiet']);

    const chunks = await raw.nextFrames(CHUNKS_BEFORE_SIGNAL, MessageType.symbols, 15_000);
    for (const chunk of chunks) assert.equal(chunk.content.length, CHARS);
    const answer = await raw.statistics(5_000);
    assert.equal(answer.count, answer.receivedSinceLast, 'the healthy raw client has an exact answer');
    child.write('s');
    const [, reported] = await child.waitForLine(/^Statistics: (\d+) symbols was delivered$/);
    assert.ok(Number(reported) > 0 && Number(reported) % CHARS === 0, `the healthy child client was sent whole chunks: ${reported}`);

    const signalledAt = performance.now();
    server.proc.kill('SIGTERM');
    const [shutdownLine, stoppedLine] = stopLines(server, shutdownTimeoutMs);
    const shutdown = await shutdownLine;
    assert.match(shutdown.match.input ?? '', /^shutting down: .*SIGTERM.* \(3 clients connected\)$/, server.proc.describe());

    // Healthy: the shutdown frame, last, then the server closes the connection.
    const frame = await raw.nextFrame(MessageType.shutdown, 3_000);
    assertServerHeader(frame, MessageType.shutdown);
    assert.match(frame.content.toString('latin1'), /SIGTERM/);
    await raw.waitClosed(3_000);
    const rawClosedAt = performance.now();
    assert.ok(raw.endedByPeer, 'the server ended the healthy connection');
    assert.equal(raw.history.at(-1), frame, 'the shutdown frame is the last frame');
    assert.equal(raw.decodeError, undefined);
    await child.waitForLine(/^server shutting down \(SIGTERM\)$/);
    assert.deepEqual(await child.waitForExit(), { code: 0, signal: null }, child.describe());
    assert.equal(child.err.text, '', child.describe());

    // Stalled: destroyed when the shutdown timeout runs out, and reported as cut off.
    const stopped = await stoppedLine;
    assert.equal(stopped.match.input, 'stopped (1 slow client cut off)', server.proc.describe());
    const exit = await server.proc.waitForExit(shutdownTimeoutMs + MARGIN_MS);
    const exitedAt = performance.now();
    assert.deepEqual(exit, { code: 0, signal: null }, server.proc.describe());
    assert.equal(server.proc.err.text, '', server.proc.describe());

    const waited = stopped.at - shutdown.at;
    assert.ok(waited >= shutdownTimeoutMs - 50, `the stalled client was cut off ${waited.toFixed(0)} ms after the shutdown began`);
    assert.ok(rawClosedAt < stopped.at, 'the healthy client was closed before the deadline, not at it');
    const took = exitedAt - signalledAt;
    assert.ok(took < shutdownTimeoutMs + MARGIN_MS, `exited ${took.toFixed(0)} ms after SIGTERM`);

    // The stalled client's stream, read now, ends without the shutdown frame: it was stuck
    // behind full buffers, so the server could never deliver it.
    const rest = await readToEnd(stalled);
    assert.ok(rest.types.length > 0, 'the stalled client had been sent chunks');
    assert.ok(!rest.types.includes(MessageType.shutdown), `the stalled client was cut off with full buffers (it found the shutdown frame after ${rest.bytes} bytes)`);
    assert.deepEqual([...new Set(rest.types)], [MessageType.symbols]);
  });

  // Guards against shutdown using the per-connection close grace (CLOSE_GRACE_MS, 1 s) as its
  // deadline: with a longer --shutdown-timeout a client still reading would be cut off at 1 s,
  // and the stop line would not count it.
  test('--shutdown-timeout longer than a second: the stalled client is given all of it, then reported cut off', async () => {
    const shutdownTimeoutMs = 3_000;
    const server = await spawnListeningServer('127.0.0.1', 'quiet', [...SERVER_OPTIONS, '--shutdown-timeout', String(shutdownTimeoutMs / 1000)]);
    const stalled = await stalledClient(server.port);
    const raw = await RawClient.connect(server.port);
    await raw.nextFrames(3, MessageType.symbols);

    server.proc.kill('SIGTERM');
    const [shutdownLine, stoppedLine] = stopLines(server, shutdownTimeoutMs);
    const shutdown = await shutdownLine;
    assert.match(shutdown.match.input ?? '', /^shutting down: .*SIGTERM.* \(2 clients connected\)$/, server.proc.describe());
    await raw.nextFrame(MessageType.shutdown, 3_000);
    await raw.waitClosed(3_000);

    const stopped = await stoppedLine;
    const waited = stopped.at - shutdown.at;
    assert.deepEqual(await server.proc.waitForExit(MARGIN_MS), { code: 0, signal: null }, server.proc.describe());
    assert.ok(
      waited >= shutdownTimeoutMs - 50,
      `the stalled client was cut off ${waited.toFixed(0)} ms after the shutdown began, before the ${shutdownTimeoutMs} ms shutdown timeout (${String(stopped.match.input)})`,
    );
    assert.equal(stopped.match.input, 'stopped (1 slow client cut off)', server.proc.describe());
    stalled.destroy();
  });
});
