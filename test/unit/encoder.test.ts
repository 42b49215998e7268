import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FrameDecoder } from '../../src/protocol/decoder.js';
import { encodeFrame, encodeHeader, type HeaderFields } from '../../src/protocol/encoder.js';
import { CLIENT_HEADER_KEYS, SERVER_HEADER_KEYS, type Frame } from '../../src/protocol/frame.js';
import { WIRE_FIXTURES, fixtureBytes } from './wire-fixtures.js';

/**
 * Any text, lone surrogates included, weighted towards ASCII. (fast-check's `unit: 'binary'`
 * would do, but it costs over a second to warm up.)
 */
const anyText = (maxLength: number): fc.Arbitrary<string> =>
  fc
    .array(fc.oneof({ arbitrary: fc.integer({ min: 0, max: 0x7f }), weight: 3 }, fc.integer({ min: 0x80, max: 0x10ffff })), { maxLength })
    .map((codePoints) => String.fromCodePoint(...codePoints));

function decodeOne(bytes: Buffer, from: 'server' | 'client'): Frame {
  const decoder = new FrameDecoder({
    maxHeaderLength: 0xffff,
    maxContentLength: 1 << 20,
    requiredKeys: from === 'server' ? SERVER_HEADER_KEYS : CLIENT_HEADER_KEYS,
  });
  const frames: Frame[] = [];
  decoder.push(bytes, (frame) => void frames.push(frame));
  assert.equal(frames.length, 1);
  return frames[0] as Frame;
}

/** The header text of a fixture, cut out of Python's bytes by its own prefix. */
function pythonHeaderText(bytes: Buffer): string {
  return bytes.subarray(2, 2 + bytes.readUInt16BE(0)).toString('utf8');
}

void describe('encodeHeader', () => {
  void it("writes the original's header exactly as Python's json.dumps does", () => {
    const header = encodeHeader({
      byteorder: 'little',
      'content-type': 'binary/custom-server-binary-type',
      'content-encoding': 'binary',
      'content-length': 5,
      sleep_time: 3,
    });
    assert.equal(
      header,
      '{"byteorder": "little", "content-type": "binary/custom-server-binary-type", "content-encoding": "binary", "content-length": 5, "sleep_time": 3}',
    );
  });

  void it('writes a fractional sleep_time as Python does', () => {
    assert.equal(encodeHeader({ sleep_time: 0.25 }), '{"sleep_time": 0.25}');
  });

  void it('writes an empty header as {}', () => {
    assert.equal(encodeHeader({}), '{}');
  });

  void it('keeps the keys in insertion order', () => {
    assert.equal(encodeHeader({ b: 1, a: 2, c: 'x' }), '{"b": 1, "a": 2, "c": "x"}');
  });

  for (const fixture of WIRE_FIXTURES.filter((f) => f.flat)) {
    void it(`matches Python's header text for the fixture "${fixture.name}"`, () => {
      assert.equal(encodeHeader(fixture.header as HeaderFields), pythonHeaderText(fixtureBytes(fixture)));
    });
  }
});

void describe('encodeFrame', () => {
  for (const fixture of WIRE_FIXTURES.filter((f) => f.flat)) {
    void it(`re-encodes the decoded fixture "${fixture.name}" byte for byte`, () => {
      const bytes = fixtureBytes(fixture);
      const frame = decodeOne(bytes, fixture.from);
      assert.deepEqual(encodeFrame(frame.header as HeaderFields, frame.content), bytes);
    });
  }

  void it('prefixes the header with its length in bytes, big-endian, not in characters', () => {
    const fields = { note: '\u2603'.repeat(100) }; // 3 bytes each in UTF-8
    const frame = encodeFrame(fields, Buffer.from('abc'));
    const headerBytes = Buffer.byteLength(encodeHeader(fields));
    assert.equal(headerBytes, 100 * 3 + '{"note": ""}'.length);
    assert.equal(frame[0], headerBytes >> 8);
    assert.equal(frame[1], headerBytes & 0xff);
    assert.equal(frame.length, 2 + headerBytes + 3);
    assert.equal(frame.subarray(2 + headerBytes).toString('latin1'), 'abc');
  });

  void it('puts the prefix length over 255 in both bytes', () => {
    const frame = encodeFrame({ pad: 'x'.repeat(300) }, Buffer.alloc(0));
    assert.equal(frame.readUInt16BE(0), '{"pad": ""}'.length + 300);
  });

  void it('refuses a header too long for the 2-byte prefix', () => {
    assert.doesNotThrow(() => encodeFrame({ pad: 'x'.repeat(0xffff - '{"pad": ""}'.length) }, Buffer.alloc(0)));
    assert.throws(() => encodeFrame({ pad: 'x'.repeat(0x10000 - '{"pad": ""}'.length) }, Buffer.alloc(0)), RangeError);
  });

  void it('keeps every content byte, any value from 0 to 255', () => {
    const content = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const frame = encodeFrame({ 'content-length': 256 }, content);
    assert.deepEqual(frame.subarray(frame.length - 256), content);
  });

  void it('has its prefix equal to the UTF-8 length of the header for any header', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ maxLength: 8 }), fc.oneof(anyText(30), fc.integer())), { maxLength: 6 }), (entries) => {
        const fields = Object.fromEntries(entries) as HeaderFields;
        const frame = encodeFrame(fields, Buffer.alloc(0));
        const length = frame.readUInt16BE(0);
        assert.equal(length, frame.length - 2);
        assert.deepEqual(JSON.parse(frame.subarray(2).toString('utf8')), fields);
      }),
      { numRuns: 300 },
    );
  });
});
