import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FrameDecoder, parseHeader, type DecoderOptions } from '../../src/protocol/decoder.js';
import { encodeFrame, type HeaderFields } from '../../src/protocol/encoder.js';
import {
  ContentTooLongError,
  HeaderEncodingError,
  HeaderForbiddenKeyError,
  HeaderInvalidValueError,
  HeaderJsonError,
  HeaderMissingKeyError,
  HeaderNotObjectError,
  HeaderTooLongError,
  ProtocolError,
} from '../../src/protocol/errors.js';
import { CLIENT_HEADER_KEYS, SERVER_HEADER_KEYS, type Frame } from '../../src/protocol/frame.js';
import { byteByByte, rawFrame, splitAt } from '../support/frames.js';
import { WIRE_FIXTURES, fixtureBytes, type WireFixture } from './wire-fixtures.js';

const RUNS = 300;

/**
 * Any text, lone surrogates included, weighted towards ASCII. (fast-check's `unit: 'binary'`
 * would do, but it costs over a second to warm up.)
 */
const anyText = (maxLength: number): fc.Arbitrary<string> =>
  fc
    .array(fc.oneof({ arbitrary: fc.integer({ min: 0, max: 0x7f }), weight: 3 }, fc.integer({ min: 0x80, max: 0x10ffff })), { maxLength })
    .map((codePoints) => String.fromCodePoint(...codePoints));

const SERVER_OPTIONS: DecoderOptions = { maxHeaderLength: 1024, maxContentLength: 1 << 20, requiredKeys: SERVER_HEADER_KEYS };
const CLIENT_OPTIONS: DecoderOptions = { maxHeaderLength: 1024, maxContentLength: 1024, requiredKeys: CLIENT_HEADER_KEYS };

function optionsFor(from: WireFixture['from']): DecoderOptions {
  return from === 'server' ? SERVER_OPTIONS : CLIENT_OPTIONS;
}


function decodeAll(options: DecoderOptions, pieces: readonly Buffer[]): Frame[] {
  const decoder = new FrameDecoder(options);
  const frames: Frame[] = [];
  for (const piece of pieces) decoder.push(piece, (frame) => void frames.push(frame));
  assert.equal(decoder.buffered, 0, 'no bytes left over after the last frame');
  assert.equal(decoder.midFrame, false, 'the stream ends on a frame boundary');
  return frames;
}

const VALID_SERVER_HEADER = {
  byteorder: 'little',
  'content-type': 'binary/custom-server-binary-type',
  'content-encoding': 'binary',
  'content-length': 3,
  sleep_time: 2,
} as const;

/** A server header text with some keys replaced or removed (undefined removes). */
function serverHeaderWith(changes: Record<string, unknown>): string {
  const header: Record<string, unknown> = { ...VALID_SERVER_HEADER };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete header[key];
    else header[key] = value;
  }
  return JSON.stringify(header);
}

function assertProtocolError(
  action: () => unknown,
  expected: abstract new (...args: never[]) => ProtocolError,
  code: string,
): ProtocolError {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof expected, `expected ${expected.name}, got ${String(caught)}`);
  assert.ok(caught instanceof ProtocolError);
  assert.equal(caught.code, code);
  assert.equal(caught.name, expected.name);
  assert.equal(caught.fatal, true);
  return caught;
}

function pushAll(decoder: FrameDecoder, bytes: Buffer, frames: Frame[] = []): Frame[] {
  decoder.push(bytes, (frame) => void frames.push(frame));
  return frames;
}

void describe('FrameDecoder on the wire fixtures', () => {
  for (const fixture of WIRE_FIXTURES) {
    const bytes = fixtureBytes(fixture);
    const check = (frames: Frame[]): void => {
      assert.equal(frames.length, 1);
      const [frame] = frames as [Frame];
      assert.deepEqual({ ...frame.header }, fixture.header);
      assert.equal(frame.content.toString('latin1'), fixture.content);
      assert.equal(frame.size, bytes.length);
    };

    void it(`${fixture.name}: fed whole`, () => {
      check(decodeAll(optionsFor(fixture.from), [bytes]));
    });

    void it(`${fixture.name}: fed one byte at a time`, () => {
      check(decodeAll(optionsFor(fixture.from), byteByByte(bytes)));
    });

    void it(`${fixture.name}: fed at random split points`, () => {
      fc.assert(
        fc.property(fc.array(fc.nat(), { maxLength: 12 }), (points) => {
          check(decodeAll(optionsFor(fixture.from), splitAt(bytes, points)));
        }),
        { numRuns: 100 },
      );
    });
  }

  void it('decodes every server fixture from one stream, whatever the split', () => {
    const serverFixtures = WIRE_FIXTURES.filter((f) => f.from === 'server');
    const stream = Buffer.concat(serverFixtures.map(fixtureBytes));
    const expected = serverFixtures.map((f) => [f.header, f.content]);
    const decoded = (frames: Frame[]): unknown[] => frames.map((f) => [{ ...f.header }, f.content.toString('latin1')]);

    assert.deepEqual(decoded(decodeAll(SERVER_OPTIONS, [stream])), expected);
    assert.deepEqual(decoded(decodeAll(SERVER_OPTIONS, byteByByte(stream))), expected);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 40 }), (points) => {
        assert.deepEqual(decoded(decodeAll(SERVER_OPTIONS, splitAt(stream, points))), expected);
      }),
      { numRuns: RUNS },
    );
  });

  void it('decodes many frames arriving in one chunk, in order', () => {
    const chunk = fixtureBytes(WIRE_FIXTURES[0] as WireFixture);
    const stream = Buffer.concat(Array.from({ length: 100 }, () => chunk));
    const frames = decodeAll(SERVER_OPTIONS, [stream]);
    assert.equal(frames.length, 100);
    assert.ok(frames.every((f) => f.content.toString('latin1') === 'td3kk'));
  });

  void it('keeps unknown header keys on the header and raises no error', () => {
    const header = `{"byteorder": "little", "content-type": "x", "content-encoding": "binary", "content-length": 1, "sleep_time": 1, "x-future": "yes", "priority": 7}`;
    const [frame] = decodeAll(SERVER_OPTIONS, [rawFrame(header, Buffer.from('A'))]);
    assert.equal(frame?.header['x-future'], 'yes');
    assert.equal(frame?.header['priority'], 7);
    assert.equal(frame?.content.toString('latin1'), 'A');
  });

  void it('accepts a client request without sleep_time but a server frame needs it', () => {
    const request = fixtureBytes(WIRE_FIXTURES.find((f) => f.from === 'client') as WireFixture);
    assert.equal(decodeAll(CLIENT_OPTIONS, [request]).length, 1);
    const error = assertProtocolError(() => pushAll(new FrameDecoder(SERVER_OPTIONS), request), HeaderMissingKeyError, 'ERR_HEADER_MISSING_KEY');
    assert.equal((error as HeaderMissingKeyError).key, 'sleep_time');
  });

  void it('does not copy the content of a frame that lies within one chunk', () => {
    const bytes = fixtureBytes(WIRE_FIXTURES[0] as WireFixture);
    const [frame] = decodeAll(SERVER_OPTIONS, [bytes]);
    assert.equal(frame?.content.buffer, bytes.buffer);
  });
});

void describe('FrameDecoder state', () => {
  void it('reports midFrame from the first byte of a frame until its last', () => {
    const bytes = fixtureBytes(WIRE_FIXTURES[0] as WireFixture);
    const decoder = new FrameDecoder(SERVER_OPTIONS);
    assert.equal(decoder.midFrame, false);
    const frames: Frame[] = [];
    for (let i = 0; i < bytes.length; i++) {
      pushAll(decoder, bytes.subarray(i, i + 1), frames);
      assert.equal(decoder.midFrame, i < bytes.length - 1, `after byte ${i}`);
    }
    assert.equal(frames.length, 1);
  });

  void it('stops when onFrame returns false and resumes on an empty push', () => {
    const a = fixtureBytes(WIRE_FIXTURES[0] as WireFixture);
    const b = fixtureBytes(WIRE_FIXTURES[1] as WireFixture);
    const decoder = new FrameDecoder(SERVER_OPTIONS);
    const seen: string[] = [];
    decoder.push(Buffer.concat([a, b]), (frame) => {
      seen.push(frame.content.toString('latin1'));
      return false;
    });
    assert.deepEqual(seen, ['td3kk']);
    assert.equal(decoder.buffered, b.length, 'the second frame waits, whole, in the buffer');
    assert.equal(decoder.midFrame, true);

    decoder.push(Buffer.alloc(0), (frame) => void seen.push(frame.content.toString('latin1')));
    assert.deepEqual(seen, ['td3kk', 'Statistics: 8 symbols was delivered']);
    assert.equal(decoder.buffered, 0);
    assert.equal(decoder.midFrame, false);
  });

  void it('delivers the frames before a malformed one, then throws', () => {
    const good = fixtureBytes(WIRE_FIXTURES[0] as WireFixture);
    const bad = rawFrame('{not json');
    const decoder = new FrameDecoder(SERVER_OPTIONS);
    const frames: Frame[] = [];
    assertProtocolError(() => pushAll(decoder, Buffer.concat([good, good, bad, good]), frames), HeaderJsonError, 'ERR_HEADER_JSON');
    assert.equal(frames.length, 2);
  });

  void it('stays failed after an error: every later push throws the same error and delivers nothing', () => {
    const decoder = new FrameDecoder(SERVER_OPTIONS);
    const first = assertProtocolError(() => pushAll(decoder, rawFrame('[]')), HeaderNotObjectError, 'ERR_HEADER_NOT_OBJECT');
    assert.equal(decoder.buffered, 0);
    let delivered = 0;
    for (const next of [fixtureBytes(WIRE_FIXTURES[0] as WireFixture), Buffer.alloc(0)]) {
      assert.throws(
        () => decoder.push(next, () => void delivered++),
        (error) => error === first,
      );
    }
    assert.equal(delivered, 0);
    assert.equal(decoder.buffered, 0);
  });

  void it('never buffers more than one header limit plus one content limit plus the prefix', () => {
    const options: DecoderOptions = { maxHeaderLength: 160, maxContentLength: 64, requiredKeys: CLIENT_HEADER_KEYS };
    const bound = options.maxHeaderLength + options.maxContentLength + 2;
    const validFrame = fc
      .uint8Array({ maxLength: 64 })
      .map((content) =>
        encodeFrame({ byteorder: 'little', 'content-type': 'c', 'content-encoding': 'binary', 'content-length': content.length }, content),
      );
    const oversized = fc
      .integer({ min: 65, max: 100_000 })
      .map((length) => rawFrame(`{"byteorder": "little", "content-type": "c", "content-encoding": "binary", "content-length": ${length}}`));
    const garbage = fc.uint8Array({ minLength: 1, maxLength: 300 }).map((bytes) => Buffer.from(bytes));
    const stream = fc
      .array(fc.oneof({ arbitrary: validFrame, weight: 6 }, { arbitrary: oversized, weight: 1 }, { arbitrary: garbage, weight: 1 }), {
        maxLength: 12,
      })
      .map((parts) => Buffer.concat(parts));

    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 30 }), (bytes, points) => {
        const decoder = new FrameDecoder(options);
        for (const piece of splitAt(bytes, points)) {
          try {
            decoder.push(piece, () => undefined);
          } catch (error) {
            assert.ok(error instanceof ProtocolError, `only protocol errors, got ${String(error)}`);
          }
          assert.ok(decoder.buffered <= bound, `buffered ${decoder.buffered} > ${bound}`);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

void describe('FrameDecoder limits', () => {
  const limited: DecoderOptions = { maxHeaderLength: 200, maxContentLength: 10, requiredKeys: SERVER_HEADER_KEYS };

  void it('rejects a header length over the limit on the 2-byte prefix alone', () => {
    const decoder = new FrameDecoder(limited);
    pushAll(decoder, Buffer.from([0x00]));
    const error = assertProtocolError(() => pushAll(decoder, Buffer.from([201])), HeaderTooLongError, 'ERR_HEADER_TOO_LONG');
    assert.equal((error as HeaderTooLongError).length, 201);
    assert.equal((error as HeaderTooLongError).limit, 200);
    assert.match(error.message, /201/);
  });

  void it('rejects the largest prefix, 65535, before any header byte arrives', () => {
    assertProtocolError(() => pushAll(new FrameDecoder(SERVER_OPTIONS), Buffer.from([0xff, 0xff])), HeaderTooLongError, 'ERR_HEADER_TOO_LONG');
  });

  void it('accepts a header length exactly at the limit and waits for the header', () => {
    const decoder = new FrameDecoder(limited);
    pushAll(decoder, Buffer.from([0x00, 200]));
    assert.equal(decoder.midFrame, true);
  });

  void it('rejects a content-length over the limit as soon as the header is read', () => {
    const decoder = new FrameDecoder(limited);
    const frame = rawFrame(serverHeaderWith({ 'content-length': 11 }));
    const error = assertProtocolError(() => pushAll(decoder, frame), ContentTooLongError, 'ERR_CONTENT_TOO_LONG');
    assert.equal((error as ContentTooLongError).length, 11);
    assert.equal((error as ContentTooLongError).limit, 10);
  });

  void it('accepts a content-length exactly at the limit', () => {
    const frame = rawFrame(serverHeaderWith({ 'content-length': 10 }), Buffer.from('0123456789'));
    const [decoded] = decodeAll(limited, [frame]);
    assert.equal(decoded?.content.toString('latin1'), '0123456789');
  });

  void it('rejects a huge content-length without waiting for its bytes', () => {
    const frame = rawFrame(serverHeaderWith({ 'content-length': 2 ** 40 }));
    assertProtocolError(() => pushAll(new FrameDecoder(SERVER_OPTIONS), frame), ContentTooLongError, 'ERR_CONTENT_TOO_LONG');
  });
});

void describe('FrameDecoder malformed headers', () => {
  const check = (
    header: string | Buffer,
    expected: abstract new (...args: never[]) => ProtocolError,
    code: string,
    options: DecoderOptions = SERVER_OPTIONS,
  ): ProtocolError => {
    const frame = rawFrame(header);
    const byByte = new FrameDecoder(options);
    assertProtocolError(() => byteByByte(frame).forEach((b) => pushAll(byByte, b)), expected, code);
    return assertProtocolError(() => pushAll(new FrameDecoder(options), frame), expected, code);
  };

  void describe('ERR_HEADER_ENCODING', () => {
    const cases: Array<[string, number[]]> = [
      ['a 0xff byte', [0xff]],
      ['an overlong encoding of "/"', [0xc0, 0xaf]],
      ['a UTF-16 surrogate encoded in UTF-8', [0xed, 0xa0, 0x80]],
      ['a truncated sequence', [0xe2, 0x98]],
      ['a lone continuation byte', [0x80]],
    ];
    for (const [name, bytes] of cases) {
      void it(`rejects ${name} inside a JSON string`, () => {
        const header = Buffer.concat([Buffer.from('{"note": "'), Buffer.from(bytes), Buffer.from(`", ${serverHeaderWith({}).slice(1)}`)]);
        const error = check(header, HeaderEncodingError, 'ERR_HEADER_ENCODING');
        assert.ok(error.cause !== undefined, 'keeps the decoding failure as cause');
      });
    }
  });

  void describe('ERR_HEADER_JSON', () => {
    const cases: Array<[string, string]> = [
      ['an empty header', ''],
      ['an unterminated object', '{"byteorder": "little"'],
      ['a trailing comma', '{"content-length": 0,}'],
      ["Python's repr instead of JSON", "{'byteorder': 'little'}"],
      ['trailing text', '{} x'],
      ['a byte-order mark before the object', `\ufeff${serverHeaderWith({ 'content-length': 0 })}`],
      ['NaN', '{"sleep_time": NaN}'],
    ];
    for (const [name, text] of cases) {
      void it(`rejects ${name}`, () => {
        const error = check(text, HeaderJsonError, 'ERR_HEADER_JSON');
        assert.ok(error.cause instanceof SyntaxError, 'keeps the parse failure as cause');
      });
    }
  });

  void describe('ERR_HEADER_NOT_OBJECT', () => {
    for (const text of ['[]', '[{"content-length": 0}]', 'null', '42', '"text"', 'true']) {
      void it(`rejects a header that is JSON ${text}`, () => {
        check(text, HeaderNotObjectError, 'ERR_HEADER_NOT_OBJECT');
      });
    }
  });

  void describe('ERR_HEADER_FORBIDDEN_KEY', () => {
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      void it(`rejects a header with the key ${key}`, () => {
        const text = `{"${key}": {"polluted": true}, ${serverHeaderWith({}).slice(1)}`;
        const error = check(text, HeaderForbiddenKeyError, 'ERR_HEADER_FORBIDDEN_KEY');
        assert.equal((error as HeaderForbiddenKeyError).key, key);
        assert.equal(({} as Record<string, unknown>)['polluted'], undefined, 'Object.prototype untouched');
      });
    }
  });

  void describe('ERR_HEADER_MISSING_KEY', () => {
    for (const key of SERVER_HEADER_KEYS) {
      void it(`rejects a server frame without ${key}, in the original's words`, () => {
        const error = check(serverHeaderWith({ [key]: undefined }), HeaderMissingKeyError, 'ERR_HEADER_MISSING_KEY');
        assert.equal((error as HeaderMissingKeyError).key, key);
        assert.equal(error.message, `Missing required header "${key}".`);
      });
    }
    for (const key of CLIENT_HEADER_KEYS) {
      void it(`rejects a client request without ${key}`, () => {
        const header: Record<string, unknown> = {
          byteorder: 'little',
          'content-type': 'binary/custom-client-binary-type',
          'content-encoding': 'binary',
          'content-length': 0,
        };
        delete header[key];
        const error = check(JSON.stringify(header), HeaderMissingKeyError, 'ERR_HEADER_MISSING_KEY', CLIENT_OPTIONS);
        assert.equal((error as HeaderMissingKeyError).key, key);
      });
    }
  });

  void describe('ERR_HEADER_INVALID_VALUE', () => {
    const cases: Array<[string, string, string]> = [
      ['a negative content-length', serverHeaderWith({ 'content-length': -1 }), 'content-length'],
      ['a fractional content-length', serverHeaderWith({ 'content-length': 1.5 }), 'content-length'],
      ['a content-length given as a string', serverHeaderWith({ 'content-length': '3' }), 'content-length'],
      ['a null content-length', serverHeaderWith({ 'content-length': null }), 'content-length'],
      ['a content-length beyond the safe integers', serverHeaderWith({ 'content-length': 2 ** 53 }), 'content-length'],
      ['a content-length that overflows to Infinity', '{"byteorder": "little", "content-type": "x", "content-encoding": "binary", "content-length": 1e400, "sleep_time": 1}', 'content-length'],
      ['a negative sleep_time', serverHeaderWith({ sleep_time: -1 }), 'sleep_time'],
      ['a sleep_time given as a string', serverHeaderWith({ sleep_time: '3' }), 'sleep_time'],
      ['a null sleep_time', serverHeaderWith({ sleep_time: null }), 'sleep_time'],
      ['a sleep_time that overflows to Infinity', '{"byteorder": "little", "content-type": "x", "content-encoding": "binary", "content-length": 0, "sleep_time": 1e999}', 'sleep_time'],
      ['a numeric byteorder', serverHeaderWith({ byteorder: 1 }), 'byteorder'],
      ['a content-type that is an object', serverHeaderWith({ 'content-type': {} }), 'content-type'],
      ['a content-encoding that is null', serverHeaderWith({ 'content-encoding': null }), 'content-encoding'],
      ['a numeric message-type', serverHeaderWith({ 'message-type': 2 }), 'message-type'],
    ];
    for (const [name, text, key] of cases) {
      void it(`rejects ${name}`, () => {
        const error = check(text, HeaderInvalidValueError, 'ERR_HEADER_INVALID_VALUE');
        assert.equal((error as HeaderInvalidValueError).key, key);
        assert.ok(error.message.includes(key), `the message names ${key}: ${error.message}`);
      });
    }

    void it('accepts a header nested four levels deep (the header itself is the first)', () => {
      const text = serverHeaderWith({ 'content-length': 0, ext: { a: { b: {} } } });
      assert.equal(decodeAll(SERVER_OPTIONS, [rawFrame(text)]).length, 1);
    });

    void it('rejects a header nested five levels deep', () => {
      check(serverHeaderWith({ ext: { a: { b: { c: {} } } } }), HeaderInvalidValueError, 'ERR_HEADER_INVALID_VALUE');
    });

    void it('rejects deeply nested arrays filling a 60 kB header, cheaply', () => {
      const depth = 30_000;
      const text = `{"ext": ${'['.repeat(depth)}${']'.repeat(depth)}, ${serverHeaderWith({}).slice(1)}`;
      const options: DecoderOptions = { ...SERVER_OPTIONS, maxHeaderLength: 0xffff };
      const started = performance.now();
      assertProtocolError(() => pushAll(new FrameDecoder(options), rawFrame(text)), HeaderInvalidValueError, 'ERR_HEADER_INVALID_VALUE');
      assert.ok(performance.now() - started < 1000, 'the depth check does not walk the whole structure');
    });
  });
});

void describe('parseHeader', () => {
  void it('checks the forbidden keys before the required ones, so a hostile header is named as such', () => {
    assert.throws(() => parseHeader(Buffer.from('{"__proto__": 1}'), SERVER_OPTIONS), HeaderForbiddenKeyError);
  });

  void it('returns a header with every key of the input', () => {
    const header = parseHeader(Buffer.from(serverHeaderWith({ extra: 'kept' })), SERVER_OPTIONS);
    assert.deepEqual({ ...header }, { ...VALID_SERVER_HEADER, extra: 'kept' });
  });
});

void describe('FrameDecoder round trip', () => {
  // JSON has no -0: it reads back as 0, which is the same number on the wire.
  const positiveZero = (x: number): number => (Object.is(x, -0) ? 0 : x);
  const reserved = new Set(['byteorder', 'content-type', 'content-encoding', 'content-length', 'sleep_time', 'message-type', '__proto__', 'constructor', 'prototype']);
  const extraKey = fc.string({ minLength: 1, maxLength: 12 }).filter((key) => !reserved.has(key));
  const extraValue = fc.oneof(
    anyText(20),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map(positiveZero),
  );
  const frameParts = fc.record({
    byteorder: fc.constantFrom('little', 'big'),
    sleep: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.double({ min: 0, max: 86_400, noNaN: true }).map(positiveZero)),
    messageType: fc.option(fc.constantFrom('symbols', 'statistics', 'error', 'shutdown'), { nil: undefined }),
    extras: fc.array(fc.tuple(extraKey, extraValue), { maxLength: 5 }).map((entries) => Object.fromEntries(entries)),
    content: fc.uint8Array({ maxLength: 300 }),
  });
  type FrameParts = {
    readonly byteorder: string;
    readonly sleep: number;
    readonly messageType: string | undefined;
    readonly extras: Readonly<Record<string, string | number>>;
    readonly content: Uint8Array;
  };
  const toFields = (parts: FrameParts): HeaderFields => {
    const fields: Record<string, string | number> = {
      byteorder: parts.byteorder,
      'content-type': 'binary/custom-server-binary-type',
      'content-encoding': 'binary',
      'content-length': parts.content.length,
      sleep_time: parts.sleep,
    };
    if (parts.messageType !== undefined) fields['message-type'] = parts.messageType;
    return { ...fields, ...parts.extras };
  };
  const options: DecoderOptions = { maxHeaderLength: 0xffff, maxContentLength: 1024, requiredKeys: SERVER_HEADER_KEYS };

  void it('decodes random valid frames exactly as they were encoded, whatever the split', () => {
    fc.assert(
      fc.property(fc.array(frameParts, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 30 }), (framesParts, points) => {
        const fields = framesParts.map(toFields);
        const encoded = framesParts.map((parts, i) => encodeFrame(fields[i] as HeaderFields, parts.content));
        const frames = decodeAll(options, splitAt(Buffer.concat(encoded), points));
        assert.equal(frames.length, framesParts.length);
        frames.forEach((frame, i) => {
          assert.deepEqual({ ...frame.header }, fields[i]);
          assert.deepEqual(new Uint8Array(frame.content), framesParts[i]?.content);
          assert.equal(frame.size, encoded[i]?.length);
        });
      }),
      { numRuns: RUNS },
    );
  });
});
