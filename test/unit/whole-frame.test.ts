import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeWholeFrame, FrameDecoder, type DecoderOptions } from '../../src/protocol/decoder.js';
import { ErrorCode, MessageFramingError, ProtocolError } from '../../src/protocol/errors.js';
import { CLIENT_HEADER_KEYS, SERVER_HEADER_KEYS, type Frame } from '../../src/protocol/frame.js';
import { encodeClientRequest } from '../../src/protocol/messages.js';
import { WIRE_FIXTURES, fixtureBytes } from './wire-fixtures.js';

const SERVER_OPTIONS: DecoderOptions = { maxHeaderLength: 1024, maxContentLength: 1 << 20, requiredKeys: SERVER_HEADER_KEYS };
const CLIENT_OPTIONS: DecoderOptions = { maxHeaderLength: 1024, maxContentLength: 1024, requiredKeys: CLIENT_HEADER_KEYS };

function codeOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    assert.ok(error instanceof ProtocolError, `a ProtocolError, not ${String(error)}`);
    return error.code;
  }
  assert.fail('no error');
}

/** What the stream decoder makes of the same bytes, or its error code. */
function streamDecode(bytes: Buffer, options: DecoderOptions): Frame[] | string {
  const frames: Frame[] = [];
  try {
    new FrameDecoder(options).push(bytes, (frame) => {
      frames.push(frame);
    });
  } catch (error) {
    return (error as ProtocolError).code;
  }
  return frames;
}

void describe('decodeWholeFrame: a message that must be exactly one frame', () => {
  for (const fixture of WIRE_FIXTURES) {
    void it(`reads the original's ${fixture.name} as the stream decoder does`, () => {
      const bytes = fixtureBytes(fixture);
      const options = fixture.from === 'server' ? SERVER_OPTIONS : CLIENT_OPTIONS;
      const frame = decodeWholeFrame(bytes, options);
      assert.deepEqual(frame.header, fixture.header);
      assert.equal(frame.content.toString('latin1'), fixture.content);
      assert.equal(frame.size, bytes.length);
    });
  }

  void it('refuses a message with anything after its frame, or that ends inside it, naming the sizes', () => {
    const request = encodeClientRequest('s');
    const twice = Buffer.concat([request, request]);
    assert.throws(() => decodeWholeFrame(twice, CLIENT_OPTIONS), (error: unknown) => error instanceof MessageFramingError && error.message === `message of ${twice.length} bytes holds a frame of ${request.length} bytes and more`);
    const short = request.subarray(0, request.length - 1);
    assert.throws(() => decodeWholeFrame(short, CLIENT_OPTIONS), new RegExp(`message of ${short.length} bytes ends inside its frame of ${request.length} bytes`));
    assert.throws(() => decodeWholeFrame(request.subarray(0, 10), CLIENT_OPTIONS), /message of 10 bytes ends inside its frame$/);
    for (const bytes of [Buffer.alloc(0), Buffer.from([0])]) assert.equal(codeOf(() => decodeWholeFrame(bytes, CLIENT_OPTIONS)), ErrorCode.messageFraming);
  });

  void it('checks the header length against its limit before anything else, as the stream decoder does', () => {
    assert.equal(codeOf(() => decodeWholeFrame(Buffer.from([0xff, 0xff]), CLIENT_OPTIONS)), ErrorCode.headerTooLong);
  });

  void it('agrees with the stream decoder on every message: the same frame when it holds exactly one, the same error when the frame is malformed', () => {
    const request = encodeClientRequest('s');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 160 }), fc.nat(request.length), (noise, cut) => {
        // A real request cut short, or with noise after it, or noise alone.
        for (const bytes of [Buffer.from(noise), Buffer.concat([request.subarray(0, cut), noise]), Buffer.concat([request, noise])]) {
          const stream = streamDecode(bytes, CLIENT_OPTIONS);
          let whole: Frame | string;
          try {
            whole = decodeWholeFrame(bytes, CLIENT_OPTIONS);
          } catch (error) {
            whole = (error as ProtocolError).code;
          }
          if (typeof whole === 'string' && whole !== ErrorCode.messageFraming) assert.equal(stream, whole, 'the same error');
          else if (typeof whole !== 'string') assert.deepEqual(stream, [whole], 'the same frame');
          else assert.ok(typeof stream === 'string' || stream.length !== 1 || stream[0]?.size !== bytes.length, 'not exactly one frame');
        }
      }),
      { numRuns: 300 },
    );
  });
});
