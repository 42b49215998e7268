/**
 * The escaping every line relies on: bytes and text from a peer, printed so that nothing in them
 * acts on a terminal or forges a line, at a cost proportional to their size.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { jsonText } from '../../src/output/json-line.js';
import { bytesRepr, escapeBytes, escapeText, strRepr } from '../../src/output/python-repr.js';

const RAW_CONTROL = /[\p{Cc}\u2028\u2029]/u;

void describe('escapeBytes', () => {
  void it('keeps printable ASCII, and writes every other byte as Python does', () => {
    assert.equal(escapeBytes(Buffer.from('td3kk')), 'td3kk');
    assert.equal(escapeBytes(Buffer.from([0x1b, 0x5b, 0x32, 0x4a, 0x0a, 0x9b, 0x5c, 0x27])), "\\x1b[2J\\n\\x9b\\\\'");
    assert.equal(escapeBytes(Buffer.from("it's"), 0x27), "it\\'s");
  });

  void it('never leaves a control byte, whatever the bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => !RAW_CONTROL.test(escapeBytes(bytes))));
  });

  void it('agrees with bytesRepr inside its quotes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => bytesRepr(bytes).includes(escapeBytes(bytes, bytesRepr(bytes).charCodeAt(1)))));
  });

  void it('reads a subarray, not the buffer around it', () => {
    const whole = Buffer.from('ab\ncd');
    assert.equal(escapeBytes(whole.subarray(3)), 'cd');
    assert.equal(escapeBytes(whole.subarray(1, 3)), 'b\\n');
  });

  void it('escapes a megabyte chunk at once, into a string of the same length', () => {
    const chunk = Buffer.alloc(1 << 20, 'x');
    assert.equal(escapeBytes(chunk).length, chunk.length);
    assert.equal(bytesRepr(chunk).length, chunk.length + 3);
  });
});

void describe('escapeText', () => {
  void it("writes what Python's str.isprintable() refuses as \\x, \\u or \\U, the backslash doubled", () => {
    assert.equal(escapeText('ok é ü 漢字'), 'ok é ü 漢字');
    assert.equal(escapeText('\x1b]0;t\x07'), '\\x1b]0;t\\x07');
    assert.equal(escapeText('a\u009bb\u00a0c'), 'a\\x9bb\\xa0c');
    assert.equal(escapeText('rtl\u202eevil\u2028next'), 'rtl\\u202eevil\\u2028next');
    assert.equal(escapeText('\\n is not a newline'), '\\\\n is not a newline');
    assert.equal(escapeText('\u{e0001}'), '\\U000e0001');
  });

  void it('never leaves a control character, whatever the text', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => !RAW_CONTROL.test(escapeText(text))));
  });

  void it('strRepr quotes it as Python would', () => {
    assert.equal(strRepr("it's"), `"it's"`);
    assert.equal(strRepr('a\nb'), "'a\\nb'");
  });
});

void describe('jsonText', () => {
  void it('escapes DEL, the C1 controls and the line separators that JSON.stringify leaves raw', () => {
    const text = jsonText({ reason: 'a\x7fb\u0085c\u009bd\u2028e' });
    assert.doesNotMatch(text, RAW_CONTROL);
    assert.deepEqual(JSON.parse(text), { reason: 'a\x7fb\u0085c\u009bd\u2028e' });
  });
});
