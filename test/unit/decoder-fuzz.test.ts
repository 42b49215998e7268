/**
 * The decoder against hostile streams: random bytes and random mutations of valid frames, fed
 * whole, byte by byte and at random split points.
 *
 * decoder.test.ts covers each rule with its own case and round-trips valid frames; here the
 * streams are arbitrary, and what must hold for all of them is checked:
 * - the only thing thrown is one of the typed protocol errors, with its stable code;
 * - between pushes the decoder holds only the unfinished frame, never more than a limit's worth;
 * - the outcome (the frames, then the error or the bytes still owed) is the same whatever the split;
 * - a mutation never touches the frames that lie wholly before it: they decode exactly.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FrameDecoder, type DecoderOptions } from '../../src/protocol/decoder.js';
import { encodeFrame } from '../../src/protocol/encoder.js';
import {
  ContentTooLongError,
  ErrorCode,
  HeaderEncodingError,
  HeaderForbiddenKeyError,
  HeaderInvalidValueError,
  HeaderJsonError,
  HeaderMissingKeyError,
  HeaderNotObjectError,
  HeaderTooLongError,
  ProtocolError,
} from '../../src/protocol/errors.js';
import { CLIENT_HEADER_KEYS, PREFIX_LENGTH, SERVER_HEADER_KEYS } from '../../src/protocol/frame.js';
import { splitAt } from '../support/frames.js';

const RUNS = 400;

/**
 * The server reading requests and a client reading chunks, with limits scaled down (valid frames
 * still fit) so that streams of a few hundred bytes reach them.
 */
const READERS: ReadonlyArray<readonly [string, DecoderOptions]> = [
  ['server', { maxHeaderLength: 160, maxContentLength: 24, requiredKeys: CLIENT_HEADER_KEYS }],
  ['client', { maxHeaderLength: 200, maxContentLength: 24, requiredKeys: SERVER_HEADER_KEYS }],
];

/** Each class a decoder may throw, with the code it must carry. */
const TYPED_ERRORS: ReadonlyArray<readonly [abstract new (...args: never[]) => ProtocolError, string]> = [
  [HeaderTooLongError, ErrorCode.headerTooLong],
  [HeaderEncodingError, ErrorCode.headerEncoding],
  [HeaderJsonError, ErrorCode.headerJson],
  [HeaderNotObjectError, ErrorCode.headerNotObject],
  [HeaderForbiddenKeyError, ErrorCode.headerForbiddenKey],
  [HeaderMissingKeyError, ErrorCode.headerMissingKey],
  [HeaderInvalidValueError, ErrorCode.headerInvalidValue],
  [ContentTooLongError, ErrorCode.contentTooLong],
];

function assertTypedError(error: unknown): asserts error is ProtocolError {
  const match = TYPED_ERRORS.find(([type]) => error instanceof type);
  assert.ok(match !== undefined, `only typed protocol errors are thrown, got ${String(error)}`);
  const [type, code] = match;
  assert.ok(error instanceof ProtocolError);
  assert.equal(error.code, code, `${type.name} carries ${code}`);
  assert.equal(error.name, type.name);
  assert.equal(error.fatal, true);
}

/** What a stream came to: its frames (header as JSON, content as hex), then how it stopped. */
interface Outcome {
  readonly frames: string[];
  readonly error: string | undefined;
  /** Bytes of an unfinished frame held at the end. */
  readonly buffered: number;
}

/**
 * Feeds the pieces in order, checking after every push what the decoder holds: nothing but the
 * frame still being received, so never a limit's worth or more (a header is checked against its
 * limit before its bytes are awaited, content likewise).
 */
function feed(options: DecoderOptions, pieces: readonly Buffer[]): Outcome {
  const decoder = new FrameDecoder(options);
  const frames: string[] = [];
  const bound = Math.max(PREFIX_LENGTH, options.maxHeaderLength, options.maxContentLength);
  for (const piece of pieces) {
    try {
      decoder.push(piece, (frame) => void frames.push(`${JSON.stringify(frame.header)} ${frame.content.toString('hex')}`));
    } catch (error) {
      assertTypedError(error);
      assert.equal(decoder.buffered, 0, 'a failed decoder lets go of what it held');
      assert.throws(() => decoder.push(Buffer.from('more'), () => assert.fail('no frame after an error')), (again) => again === error);
      return { frames, error: error.code, buffered: 0 };
    }
    assert.ok(decoder.buffered < bound, `holds ${decoder.buffered} bytes between pushes (limit ${bound})`);
    if (decoder.buffered > 0) assert.ok(decoder.midFrame, 'bytes held mean a frame has begun');
  }
  return { frames, error: undefined, buffered: decoder.buffered };
}


/** The same stream fed whole, byte by byte and at the split points must come to the same outcome. */
function assertSplitInvariant(options: DecoderOptions, bytes: Buffer, points: readonly number[]): Outcome {
  const whole = feed(options, [bytes]);
  assert.deepEqual(feed(options, Array.from(bytes, (byte) => Buffer.of(byte))), whole, 'byte by byte as whole');
  assert.deepEqual(feed(options, splitAt(bytes, points)), whole, `split at ${String(points)} as whole`);
  return whole;
}

// ---- generators ------------------------------------------------------------------------------

const requestFrame = fc.oneof(
  fc.constant(Buffer.from('s')),
  fc.uint8Array({ maxLength: 24 }).map((bytes) => Buffer.from(bytes)),
).map((content) =>
  encodeFrame(
    { byteorder: 'little', 'content-type': 'binary/custom-client-binary-type', 'content-encoding': 'binary', 'content-length': content.length },
    content,
  ),
);

const chunkFrame = fc
  .tuple(fc.stringMatching(/^[A-Za-z0-9]{1,20}$/), fc.integer({ min: 0, max: 5 }))
  .map(([symbols, sleep]) =>
    encodeFrame(
      {
        byteorder: 'big',
        'content-type': 'binary/custom-server-binary-type',
        'content-encoding': 'binary',
        'content-length': symbols.length,
        sleep_time: sleep,
        'message-type': 'symbols',
      },
      Buffer.from(symbols, 'latin1'),
    ),
  );

/** JSON texts a hostile header may carry in place of a value. */
const hostileValue = fc.oneof(
  fc.constantFrom('-1', '1.5', '9007199254740992', '1e400', 'null', 'true', '"1"', '{}', '[]', '"x"', '[[[[[1]]]]]', '{"a": {"b": {"c": {"d": {}}}}}'),
  fc.integer({ min: 0, max: 1 << 30 }).map(String),
);

/**
 * A frame whose header is valid JSON but hostile in one key: a value replaced, a required key
 * removed, or a key added (`__proto__` and its kin among them). Content as long as the original
 * header said.
 */
function hostileHeaderFrame(requiredKeys: readonly string[]): fc.Arbitrary<Buffer> {
  const fields: Record<string, string> = {
    byteorder: '"little"',
    'content-type': '"binary/custom-client-binary-type"',
    'content-encoding': '"binary"',
    'content-length': '1',
    sleep_time: '1',
  };
  const keys = Object.keys(fields);
  const change = fc.oneof(
    fc.record({ op: fc.constant('replace' as const), key: fc.constantFrom(...keys), value: hostileValue }),
    fc.record({ op: fc.constant('remove' as const), key: fc.constantFrom(...requiredKeys), value: fc.constant('') }),
    fc.record({ op: fc.constant('add' as const), key: fc.constantFrom('__proto__', 'constructor', 'prototype', 'message-type', 'x'), value: hostileValue }),
  );
  return change.map(({ op, key, value }) => {
    const header: Record<string, string> = { ...fields };
    if (op === 'remove') delete header[key];
    else header[key] = value;
    const text = `{${Object.entries(header)
      .map(([k, v]) => `${JSON.stringify(k)}: ${v}`)
      .join(', ')}}`;
    const headerBytes = Buffer.from(text, 'utf8');
    return Buffer.concat([Buffer.of(headerBytes.length >> 8, headerBytes.length & 0xff), headerBytes, Buffer.from('s')]);
  });
}

/** One edit of a byte stream, at a position given as a fraction of its length. */
const edit = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), count: fc.integer({ min: 1, max: 8 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }) }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), count: fc.integer({ min: 1, max: 40 }) }),
);
type Edit = typeof edit extends fc.Arbitrary<infer T> ? T : never;

/** Applies the edits in turn; also returns the first byte offset any of them touched. */
function mutate(bytes: Buffer, edits: readonly Edit[]): { bytes: Buffer; firstTouched: number } {
  let out = Buffer.from(bytes);
  let firstTouched = out.length;
  for (const e of edits) {
    if (out.length === 0) break;
    const at = Math.floor(e.at * out.length);
    firstTouched = Math.min(firstTouched, at);
    switch (e.kind) {
      case 'flip':
        out[at] = (out[at] ?? 0) ^ (1 << e.bit);
        break;
      case 'set':
        out[at] = e.byte;
        break;
      case 'delete':
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + e.count)]);
        break;
      case 'insert':
        out = Buffer.concat([out.subarray(0, at), e.bytes, out.subarray(at)]);
        break;
      case 'truncate':
        out = out.subarray(0, at);
        break;
      case 'repeat': {
        const end = Math.min(out.length, at + e.count);
        out = Buffer.concat([out.subarray(0, end), out.subarray(at, end), out.subarray(end)]);
        break;
      }
    }
  }
  return { bytes: out, firstTouched };
}

// ---- properties ------------------------------------------------------------------------------

for (const [reader, options] of READERS) {
  const validFrame = reader === 'server' ? requestFrame : chunkFrame;

  void describe(`FrameDecoder fuzzed, as the ${reader} reads`, () => {
    void it('random bytes: only typed errors, bounded holding, the same outcome whatever the split', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(), { maxLength: 20 }), (bytes, points) => {
          assertSplitInvariant(options, Buffer.from(bytes), points);
        }),
        { numRuns: RUNS },
      );
    });

    void it('random bytes behind a small length prefix reach the header checks: same properties', () => {
      const stream = fc.uint8Array({ maxLength: 300 }).map((body) => Buffer.concat([Buffer.of(0, Math.min(body.length, 255)), body]));
      fc.assert(
        fc.property(stream, fc.array(fc.nat(), { maxLength: 20 }), (bytes, points) => {
          assertSplitInvariant(options, bytes, points);
        }),
        { numRuns: RUNS },
      );
    });

    void it('mutated valid frames: the frames before the first edit decode exactly; same properties', () => {
      fc.assert(
        fc.property(
          fc.array(validFrame, { minLength: 1, maxLength: 6 }),
          fc.array(edit, { minLength: 1, maxLength: 4 }),
          fc.array(fc.nat(), { maxLength: 20 }),
          (frames, edits, points) => {
            const original = Buffer.concat(frames);
            const { bytes, firstTouched } = mutate(original, edits);
            const outcome = assertSplitInvariant(options, bytes, points);

            // Frames that end before the first edited byte are untouched and must come out whole.
            const expected = feed(options, [original]).frames;
            let end = 0;
            let intact = 0;
            for (const frame of frames) {
              end += frame.length;
              if (end > firstTouched) break;
              intact++;
            }
            assert.ok(outcome.frames.length >= intact, `${outcome.frames.length} frames decoded, ${intact} lie before the first edit`);
            assert.deepEqual(outcome.frames.slice(0, intact), expected.slice(0, intact));
          },
        ),
        { numRuns: RUNS },
      );
    });

    void it('a frame with one hostile header value among valid ones: the frames before it decode exactly; same properties', () => {
      fc.assert(
        fc.property(
          fc.array(validFrame, { maxLength: 3 }),
          hostileHeaderFrame(options.requiredKeys),
          fc.array(validFrame, { maxLength: 3 }),
          fc.array(fc.nat(), { maxLength: 20 }),
          (before, hostile, behind, points) => {
            const outcome = assertSplitInvariant(options, Buffer.concat([...before, hostile, ...behind]), points);
            assert.deepEqual(outcome.frames.slice(0, before.length), feed(options, [Buffer.concat(before)]).frames);
          },
        ),
        { numRuns: RUNS },
      );
    });

    /** A length near `limit` half the time, any length the field can state otherwise. */
    const lengthAround = (limit: number, max: number): fc.Arbitrary<number> =>
      fc.oneof(fc.integer({ min: Math.max(0, limit - 2), max: limit + 2 }), fc.integer({ min: 0, max }));

    void it('a header length over the limit is refused on the 2-byte prefix alone, one within it awaited', () => {
      fc.assert(
        fc.property(lengthAround(options.maxHeaderLength, 0xffff), (length) => {
          const outcome = feed(options, [Buffer.of(length >> 8, length & 0xff)]);
          // An empty header is complete at once, and is not JSON.
          const expected = length > options.maxHeaderLength ? ErrorCode.headerTooLong : length === 0 ? ErrorCode.headerJson : undefined;
          assert.equal(outcome.error, expected, `header length ${length}`);
        }),
        { numRuns: RUNS / 4 },
      );
    });

    void it('a content-length over the limit is refused on the header alone, one within it awaited', () => {
      fc.assert(
        fc.property(lengthAround(options.maxContentLength, Number.MAX_SAFE_INTEGER), (length) => {
          const fields = { byteorder: 'little', 'content-type': 'c', 'content-encoding': 'binary', 'content-length': length, sleep_time: 1 };
          const outcome = feed(options, [encodeFrame(fields, Buffer.alloc(0))]);
          if (length > options.maxContentLength) assert.equal(outcome.error, ErrorCode.contentTooLong, `content-length ${length}`);
          else assert.deepEqual([outcome.error, outcome.frames.length], [undefined, length === 0 ? 1 : 0], `content-length ${length}`);
        }),
        { numRuns: RUNS / 4 },
      );
    });

    void it('valid frames unmutated: every frame, nothing left, whatever the split', () => {
      fc.assert(
        fc.property(fc.array(validFrame, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 20 }), (frames, points) => {
          const outcome = assertSplitInvariant(options, Buffer.concat(frames), points);
          assert.equal(outcome.error, undefined);
          assert.equal(outcome.frames.length, frames.length);
          assert.equal(outcome.buffered, 0);
        }),
        { numRuns: RUNS / 4 },
      );
    });
  });
}
