import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { addressRepr, bytesRepr, osErrorText, sleepyLine, strRepr } from '../../src/output/python-repr.js';

/** What Python 3.11 prints for `repr(bytes(range(256)))`: every byte's form in one fixture. */
const PYTHON_ALL_BYTES =
  "b'\\x00\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08\\t\\n\\x0b\\x0c\\r\\x0e\\x0f\\x10\\x11\\x12\\x13\\x14\\x15\\x16\\x17\\x18\\x19\\x1a\\x1b\\x1c\\x1d\\x1e\\x1f" +
  ' !"#$%&\\\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\\\]^_`abcdefghijklmnopqrstuvwxyz{|}~' +
  '\\x7f\\x80\\x81\\x82\\x83\\x84\\x85\\x86\\x87\\x88\\x89\\x8a\\x8b\\x8c\\x8d\\x8e\\x8f\\x90\\x91\\x92\\x93\\x94\\x95\\x96\\x97\\x98\\x99\\x9a\\x9b\\x9c\\x9d\\x9e\\x9f' +
  '\\xa0\\xa1\\xa2\\xa3\\xa4\\xa5\\xa6\\xa7\\xa8\\xa9\\xaa\\xab\\xac\\xad\\xae\\xaf\\xb0\\xb1\\xb2\\xb3\\xb4\\xb5\\xb6\\xb7\\xb8\\xb9\\xba\\xbb\\xbc\\xbd\\xbe\\xbf' +
  '\\xc0\\xc1\\xc2\\xc3\\xc4\\xc5\\xc6\\xc7\\xc8\\xc9\\xca\\xcb\\xcc\\xcd\\xce\\xcf\\xd0\\xd1\\xd2\\xd3\\xd4\\xd5\\xd6\\xd7\\xd8\\xd9\\xda\\xdb\\xdc\\xdd\\xde\\xdf' +
  "\\xe0\\xe1\\xe2\\xe3\\xe4\\xe5\\xe6\\xe7\\xe8\\xe9\\xea\\xeb\\xec\\xed\\xee\\xef\\xf0\\xf1\\xf2\\xf3\\xf4\\xf5\\xf6\\xf7\\xf8\\xf9\\xfa\\xfb\\xfc\\xfd\\xfe\\xff'";

/** `repr(b)` as Python 3.11 printed it, for bytes chosen to hit each rule. */
const PYTHON_BYTES: ReadonlyArray<readonly [readonly number[], string]> = [
  [[], "b''"],
  [[0x27], `b"'"`],
  [[0x22], `b'"'`],
  [[0x27, 0x22], `b'\\'"'`],
  [Array.from(Buffer.from("it's")), `b"it's"`],
  [Array.from(Buffer.from('say "hi"')), `b'say "hi"'`],
  [Array.from(Buffer.from('it\'s "x"')), `b'it\\'s "x"'`],
  [[0x5c], "b'\\\\'"],
  [[0x5c, 0x27], `b"\\\\'"`],
  [Array.from(Buffer.from('td3kk')), "b'td3kk'"],
  [Array.from(Buffer.from('Statistics: 8 symbols was delivered')), "b'Statistics: 8 symbols was delivered'"],
  [[0x00, 0x7f, 0x80, 0xff], "b'\\x00\\x7f\\x80\\xff'"],
  [[0x09, 0x0a, 0x0d, 0x0b, 0x0c, 0x08, 0x07], "b'\\t\\n\\r\\x0b\\x0c\\x08\\x07'"],
];

/**
 * Reads a Python bytes literal back, written from Python's grammar rather than from our
 * printer: the inverse that any correct repr must satisfy.
 */
function parseBytesLiteral(literal: string): number[] {
  assert.ok(literal.startsWith('b'), literal);
  const quote = literal[1];
  assert.ok(quote === "'" || quote === '"', literal);
  assert.equal(literal.at(-1), quote, literal);
  const body = literal.slice(2, -1);
  const simple: Record<string, number> = { '\\': 0x5c, "'": 0x27, '"': 0x22, t: 0x09, n: 0x0a, r: 0x0d };
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const char = body[i] as string;
    if (char === quote) assert.fail(`unescaped delimiter in ${literal}`);
    if (char !== '\\') {
      bytes.push(char.charCodeAt(0));
      continue;
    }
    const next = body[++i] as string;
    if (next === 'x') {
      const hex = body.slice(i + 1, i + 3);
      assert.match(hex, /^[0-9a-f]{2}$/, `lowercase \\xNN in ${literal}`);
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      const value = simple[next];
      assert.ok(value !== undefined, `unknown escape \\${next} in ${literal}`);
      bytes.push(value);
    }
  }
  return bytes;
}

void describe('bytesRepr', () => {
  void it("prints all 256 byte values as Python's repr does", () => {
    assert.equal(bytesRepr(Buffer.from(Array.from({ length: 256 }, (_, i) => i))), PYTHON_ALL_BYTES);
  });

  for (const [bytes, python] of PYTHON_BYTES) {
    void it(`prints ${python} as Python does`, () => {
      assert.equal(bytesRepr(Uint8Array.from(bytes)), python);
    });
  }

  void it('prints each single byte so that Python reads back that byte', () => {
    for (let byte = 0; byte < 256; byte++) {
      assert.deepEqual(parseBytesLiteral(bytesRepr(Uint8Array.of(byte))), [byte], `byte ${byte}`);
    }
  });

  void it('prints any bytes as printable ASCII that reads back to the same bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const literal = bytesRepr(bytes);
        assert.match(literal, /^[\x20-\x7e]*$/);
        assert.deepEqual(parseBytesLiteral(literal), Array.from(bytes));
        // Python's quote choice: double quotes only for a single quote without a double one.
        const doubled = bytes.includes(0x27) && !bytes.includes(0x22);
        assert.equal(literal[1], doubled ? '"' : "'");
      }),
      { numRuns: 500 },
    );
  });
});

void describe('addressRepr', () => {
  void it('prints an IPv4 peer as a Python 2-tuple', () => {
    assert.equal(addressRepr('127.0.0.1', 60174, 'IPv4'), "('127.0.0.1', 60174)");
  });

  void it('prints a host name as given', () => {
    assert.equal(addressRepr('localhost', 65432), "('localhost', 65432)");
  });

  void it('prints an IPv6 peer as a Python 4-tuple', () => {
    assert.equal(addressRepr('::1', 60174, 'IPv6'), "('::1', 60174, 0, 0)");
  });

  void it('quotes host names as Python does', () => {
    assert.equal(addressRepr("it's", 1), `("it's", 1)`);
    assert.equal(addressRepr('a\\b', 2), "('a\\\\b', 2)");
    assert.equal(addressRepr('h\u00e9llo', 3), "('h\u00e9llo', 3)");
    assert.equal(addressRepr('tab\there', 4), "('tab\\there', 4)");
  });
});

void describe('strRepr', () => {
  void it("prints strings as Python's repr does for the characters host names can hold", () => {
    assert.equal(strRepr(''), "''");
    assert.equal(strRepr('localhost'), "'localhost'");
    assert.equal(strRepr(`'"`), `'\\'"'`);
    assert.equal(strRepr('\x00\n\x7f'), "'\\x00\\n\\x7f'");
  });
});

void describe('sleepyLine', () => {
  void it('says "second" for exactly one second', () => {
    assert.equal(sleepyLine(1), 'sleepy for a 1 second');
  });

  void it('says "seconds" for any other whole number', () => {
    assert.equal(sleepyLine(3), 'sleepy for a 3 seconds');
    assert.equal(sleepyLine(0), 'sleepy for a 0 seconds');
  });

  void it('prints a fractional wait as the header states it', () => {
    assert.equal(sleepyLine(0.25), 'sleepy for a 0.25 seconds');
    assert.equal(sleepyLine(1.5), 'sleepy for a 1.5 seconds');
  });
});

void describe('osErrorText', () => {
  const errnoError = (code: string, message = `read ${code}`): NodeJS.ErrnoException =>
    Object.assign(new Error(message), { code, syscall: 'read' });

  // As Python 3.11 on Linux prints str(OSError(errno, os.strerror(errno))).
  const python: Array<[string, string]> = [
    ['ECONNRESET', '[Errno 104] Connection reset by peer'],
    ['EPIPE', '[Errno 32] Broken pipe'],
    ['ECONNREFUSED', '[Errno 111] Connection refused'],
    ['ETIMEDOUT', '[Errno 110] Connection timed out'],
    ['EHOSTUNREACH', '[Errno 113] No route to host'],
    ['ENETUNREACH', '[Errno 101] Network is unreachable'],
    ['EADDRINUSE', '[Errno 98] Address already in use'],
    ['EADDRNOTAVAIL', '[Errno 99] Cannot assign requested address'],
    ['EACCES', '[Errno 13] Permission denied'],
    ['ENOTFOUND', '[Errno -2] Name or service not known'],
  ];
  for (const [code, text] of python) {
    void it(`prints ${code} as Python does: ${text}`, () => {
      assert.equal(osErrorText(errnoError(code)), text);
    });
  }

  void it("falls back to Node's message for a code it does not know", () => {
    assert.equal(osErrorText(errnoError('EWEIRD', 'something odd')), 'something odd');
    assert.equal(osErrorText(new Error('no code at all')), 'no code at all');
  });
});
