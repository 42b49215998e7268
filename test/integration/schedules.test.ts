import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/protocol/errors.js';
import { MessageType } from '../../src/protocol/frame.js';
import { encodeClientRequest } from '../../src/protocol/messages.js';
import { assertChunk, TestServer, type RawClient, type ReceivedFrame } from '../support/net.js';

/**
 * Frames are timed where they arrive, in a process shared with the server: a frame delivered
 * late makes the gap after it look short. The server's own send times have no such jitter,
 * only the timers' millisecond rounding.
 */
const ARRIVAL_JITTER_MS = 50;
const TIMER_ROUNDING_MS = 2;
/** A stall of the shared event loop delays a chunk; a blocking server would delay it far more. */
const LATE_TOLERANCE_MS = 250;
const FRAMES_PER_CLIENT = 8;

void describe('several clients keep independent schedules', () => {
  let server: TestServer;
  before(async () => {
    server = await TestServer.start({ interval: { min: 0.05, max: 0.15 }, chars: { min: 1, max: 5 } });
  });
  after(() => server.stop());

  void it('gives each client chunks paced by its own sleep_time, whatever a silent or a junk-sending client does', async () => {
    const silent = await server.connect();
    silent.pause();
    const readers = await Promise.all(Array.from({ length: 5 }, () => server.connect()));

    const collecting = readers.map((reader) => reader.nextFrames(FRAMES_PER_CLIENT, MessageType.symbols));
    // Once chunks flow, two misbehaving clients join: one sends garbage, one floods unknown requests.
    await server.waitForEvent('chunk');
    const junk = await server.connect();
    await junk.write(Buffer.from([0xff, 0xff, 0x00, 0x01, 0x02, 0x03]));
    const spammer = await server.connect();
    await spammer.write(Buffer.concat(Array.from({ length: 50 }, () => encodeClientRequest('hello'))));

    const received = await Promise.all(collecting);

    const sleeps: string[] = [];
    received.forEach((frames, n) => {
      const reader = readers[n] as RawClient;
      // The schedule starts when the server accepts the connection.
      const acceptedAt = server.eventsOf('accepted', reader)[0]?.at ?? Number.NaN;
      const sent = server.eventsOf('chunk', reader);
      let previousArrival = acceptedAt;
      let previousSend = acceptedAt;
      let sleptMs = 0;
      frames.forEach((frame, i) => {
        assertChunk(frame, server.config);
        const what = `${reader.label}, chunk ${i + 1}`;
        const sleepMs = (frame.header.sleep_time as number) * 1000;
        sleptMs += sleepMs;
        // The server sent it no earlier than its own sleep_time after the previous one...
        const send = sent[i];
        assert.ok(send !== undefined, `${what}: no chunk event`);
        assert.ok(send.content.equals(frame.content), `${what}: the chunk event is for another chunk`);
        assert.equal(send.sleepTime * 1000, sleepMs, `${what}: sleep_time`);
        const sendGap = send.at - previousSend;
        assert.ok(sendGap >= sleepMs - TIMER_ROUNDING_MS, `${what}: sent ${sendGap.toFixed(1)} ms after the previous one, sleep_time says ${sleepMs} ms`);
        previousSend = send.at;
        // ...so it cannot arrive before the sum of the waits so far...
        const sinceAccept = frame.at - acceptedAt;
        assert.ok(sinceAccept >= sleptMs - TIMER_ROUNDING_MS * (i + 1), `${what}: arrived ${sinceAccept.toFixed(1)} ms after accept, the waits add up to ${sleptMs} ms`);
        // ...and the gaps the client sees follow it too, give or take delivery jitter.
        const gap = frame.at - previousArrival;
        assert.ok(gap >= sleepMs - ARRIVAL_JITTER_MS, `${what}: arrived ${gap.toFixed(1)} ms after the previous one, sleep_time says ${sleepMs} ms`);
        assert.ok(
          gap <= server.config.interval.max * 1000 + LATE_TOLERANCE_MS,
          `${what}: arrived ${gap.toFixed(1)} ms after the previous one (max interval ${server.config.interval.max * 1000} ms)`,
        );
        previousArrival = frame.at;
      });
      sleeps.push(frames.map((frame) => frame.header.sleep_time).join(','));
    });
    // A schedule shared between clients would give them the same waits.
    assert.equal(new Set(sleeps).size, readers.length, `sleep_time sequences are not all distinct: ${sleeps.join(' | ')}`);

    // The junk sender was told and dropped; the spammer was told 50 times and kept.
    const junkError = await junk.nextFrame(MessageType.error);
    assert.match(junkError.content.toString('latin1'), /^ERR_HEADER_TOO_LONG: /);
    await junk.waitClosed();
    const spamErrors = await spammer.nextFrames(50, MessageType.error);
    for (const frame of spamErrors) assert.match(frame.content.toString('latin1'), new RegExp(`^${ErrorCode.unknownRequest}: `));
    assert.equal(spammer.isClosed, false);

    // The silent client lost nothing while it did not read.
    silent.resume();
    const answer = await silent.statistics();
    assert.equal(answer.count, answer.receivedSinceLast);
    assert.ok(answer.count > 0, 'the silent client was sent chunks all along');
  });

  void it('sends every chunk with the full header and symbols from the alphabet', async () => {
    const client = await server.connect();
    const frames: ReceivedFrame[] = await client.nextFrames(5);
    for (const frame of frames) assertChunk(frame, server.config);
  });
});
