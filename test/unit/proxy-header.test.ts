/**
 * The PROXY protocol header parser against the specification (HAProxy's doc/proxy-protocol.txt).
 *
 * Valid and invalid headers are built here byte by byte from the spec, its own examples among
 * them. Each runs fed whole, one byte at a time and at random split points, with bytes after
 * it that must come back untouched; each invalid one must be refused at the first byte that
 * proves it wrong, and not one byte before. Then fuzzing: random and mutated streams throw
 * nothing but the typed error and never make the parser hold a header's limit; addresses are
 * checked against Node's own parser and printer; headers round-trip through the encoder.
 */
import assert from 'node:assert/strict';
import { SocketAddress, isIPv4 } from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ErrorCode, ProtocolError, ProxyHeaderError } from '../../src/protocol/errors.js';
import {
  PROXY_V1_MAX_LENGTH,
  PROXY_V2_DEFAULT_MAX_LENGTH,
  PROXY_V2_FIXED_LENGTH,
  PROXY_V2_MAX_LENGTH,
  ProxyHeaderParser,
  encodeProxyHeader,
  formatIPv6,
  parseIPv6,
  type ProxyAddress,
  type ProxyHeader,
  type ProxyHeaderFields,
  type ProxyHeaderOptions,
} from '../../src/protocol/proxy-header.js';
import { byteByByte, splitAt } from '../support/frames.js';

const RUNS = 300;

/** Bytes a connection carries after its header: a frame, and things a careless parser might take for more header. */
const TRAILER = Buffer.concat([Buffer.of(0x00, 0x02), Buffer.from('{}PROXY TCP4 \r\n'), Buffer.of(0x0d, 0x0a, 0x00)]);

const V2_SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

/** A v2 header from its parts, as the spec lays them out: signature, version and command, family and transport, length, block. */
function v2(versionCommand: number, familyTransport: number, block: readonly number[], length = block.length): Buffer {
  return Buffer.from([...V2_SIGNATURE, versionCommand, familyTransport, length >> 8, length & 0xff, ...block]);
}

const ipv4 = (text: string): number[] => text.split('.').map(Number);
const port = (value: number): number[] => [value >> 8, value & 0xff];
/** 16 bytes written out in hex, as a sender would put an IPv6 address on the wire. */
const ipv6 = (hex: string): number[] => Array.from(Buffer.from(hex, 'hex'));
/** A TLV: type, 16-bit length, value. */
const tlv = (type: number, value: readonly number[]): number[] => [type, ...port(value.length), ...value];
const ascii = (text: string): number[] => Array.from(Buffer.from(text, 'latin1'));

const address = (family: 'IPv4' | 'IPv6', host: string, p: number): ProxyAddress => ({ family, host, port: p });

interface ValidFixture {
  readonly name: string;
  readonly bytes: Buffer;
  readonly expected: ProxyHeaderFields & { readonly version: 1 | 2 };
  /** These are the very bytes the encoder writes for the expected fields. */
  readonly encoderWrites?: true;
}

const FF39 = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';

const VALID: readonly ValidFixture[] = [
  {
    name: "v1 TCP4, the spec's example",
    bytes: Buffer.from('PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n', 'latin1'),
    expected: { version: 1, command: 'proxy', source: address('IPv4', '192.168.0.1', 56324), destination: address('IPv4', '192.168.0.11', 443) },
    encoderWrites: true,
  },
  {
    name: "v1 TCP4, the spec's longest (56 bytes)",
    bytes: Buffer.from('PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n', 'latin1'),
    expected: { version: 1, command: 'proxy', source: address('IPv4', '255.255.255.255', 65535), destination: address('IPv4', '255.255.255.255', 65535) },
    encoderWrites: true,
  },
  {
    name: 'v1 TCP4, zeros',
    bytes: Buffer.from('PROXY TCP4 0.0.0.0 10.0.0.1 0 1\r\n', 'latin1'),
    expected: { version: 1, command: 'proxy', source: address('IPv4', '0.0.0.0', 0), destination: address('IPv4', '10.0.0.1', 1) },
    encoderWrites: true,
  },
  {
    name: "v1 TCP6, the spec's longest (104 bytes)",
    bytes: Buffer.from(`PROXY TCP6 ${FF39} ${FF39} 65535 65535\r\n`, 'latin1'),
    expected: { version: 1, command: 'proxy', source: address('IPv6', FF39, 65535), destination: address('IPv6', FF39, 65535) },
    encoderWrites: true,
  },
  {
    name: 'v1 TCP6, compressed, upper case, full form and a mapped IPv4: hosts as Node prints them',
    bytes: Buffer.from('PROXY TCP6 2001:DB8::1 ::ffff:192.0.2.1 0 8080\r\n', 'latin1'),
    expected: { version: 1, command: 'proxy', source: address('IPv6', '2001:db8::1', 0), destination: address('IPv6', '::ffff:192.0.2.1', 8080) },
  },
  {
    name: 'v1 TCP6, groups with leading zeros and the all-zero address',
    bytes: Buffer.from('PROXY TCP6 2001:0db8:0000:0000:0000:0000:0000:0001 :: 1 2\r\n', 'latin1'),
    expected: { version: 1, command: 'proxy', source: address('IPv6', '2001:db8::1', 1), destination: address('IPv6', '::', 2) },
  },
  {
    name: 'v1 UNKNOWN, short form (15 bytes)',
    bytes: Buffer.from('PROXY UNKNOWN\r\n', 'latin1'),
    expected: { version: 1, command: 'proxy' },
    encoderWrites: true,
  },
  {
    name: "v1 UNKNOWN, the spec's worst case (107 bytes): the rest of the line is ignored",
    bytes: Buffer.from(`PROXY UNKNOWN ${FF39} ${FF39} 65535 65535\r\n`, 'latin1'),
    expected: { version: 1, command: 'proxy' },
  },
  {
    name: 'v1 UNKNOWN with anything before the CRLF',
    bytes: Buffer.from('PROXY UNKNOWN whatever \x00\xff  words\r\n', 'latin1'),
    expected: { version: 1, command: 'proxy' },
  },
  {
    name: 'v2 PROXY TCP over IPv4 (\\x11, 12 address bytes)',
    bytes: v2(0x21, 0x11, [...ipv4('192.168.0.1'), ...ipv4('192.168.0.11'), ...port(56324), ...port(443)]),
    expected: { version: 2, command: 'proxy', source: address('IPv4', '192.168.0.1', 56324), destination: address('IPv4', '192.168.0.11', 443) },
    encoderWrites: true,
  },
  {
    name: 'v2 PROXY UDP over IPv4 (\\x12): the addresses are the client\'s all the same',
    bytes: v2(0x21, 0x12, [...ipv4('10.1.2.3'), ...ipv4('10.3.2.1'), ...port(53), ...port(5353)]),
    expected: { version: 2, command: 'proxy', source: address('IPv4', '10.1.2.3', 53), destination: address('IPv4', '10.3.2.1', 5353) },
  },
  {
    name: 'v2 PROXY TCP over IPv6 (\\x21, 36 address bytes)',
    bytes: v2(0x21, 0x21, [...ipv6('20010db8000000000000000000000001'), ...ipv6('20010db80000000100000000ff000042'), ...port(443), ...port(65535)]),
    expected: { version: 2, command: 'proxy', source: address('IPv6', '2001:db8::1', 443), destination: address('IPv6', '2001:db8:0:1::ff00:42', 65535) },
    encoderWrites: true,
  },
  {
    name: 'v2 PROXY UDP over IPv6 (\\x22) with IPv4-mapped addresses, as HAProxy sends a mixed pair',
    bytes: v2(0x21, 0x22, [...ipv6('00000000000000000000ffff7f000001'), ...ipv6('00000000000000000000000000000001'), ...port(1), ...port(2)]),
    expected: { version: 2, command: 'proxy', source: address('IPv6', '::ffff:127.0.0.1', 1), destination: address('IPv6', '::1', 2) },
  },
  {
    name: 'v2 LOCAL, UNSPEC, no block: a health check',
    bytes: v2(0x20, 0x00, []),
    expected: { version: 2, command: 'local' },
    encoderWrites: true,
  },
  {
    name: 'v2 LOCAL with an address block: skipped, addresses ignored',
    bytes: v2(0x20, 0x11, [...ipv4('1.2.3.4'), ...ipv4('5.6.7.8'), ...port(1), ...port(2)]),
    expected: { version: 2, command: 'local' },
  },
  {
    name: 'v2 LOCAL with a family byte no PROXY command may carry: the family is ignored',
    bytes: v2(0x20, 0xff, [1, 2, 3]),
    expected: { version: 2, command: 'local' },
  },
  {
    name: 'v2 PROXY UNSPEC (\\x00): no addresses',
    bytes: v2(0x21, 0x00, []),
    expected: { version: 2, command: 'proxy' },
    encoderWrites: true,
  },
  {
    name: 'v2 PROXY AF_INET with UNSPEC transport (\\x10): the block is skipped, no addresses',
    bytes: v2(0x21, 0x10, [...ipv4('1.2.3.4'), ...ipv4('5.6.7.8'), 9, 9]),
    expected: { version: 2, command: 'proxy' },
  },
  {
    name: 'v2 PROXY UNIX stream (\\x31, 216 address bytes): no usable address',
    bytes: v2(0x21, 0x31, [...ascii('/run/client.sock').concat(Array<number>(92).fill(0)), ...ascii('/run/server.sock').concat(Array<number>(92).fill(0))]),
    expected: { version: 2, command: 'proxy' },
  },
  {
    name: 'v2 PROXY UNIX datagram (\\x32) followed by a TLV',
    bytes: v2(0x21, 0x32, [...Array<number>(216).fill(0), ...tlv(0x04, [])]),
    expected: { version: 2, command: 'proxy' },
  },
  {
    name: 'v2 PROXY TCP over IPv4 with the TLVs HAProxy sends (ALPN, authority, unique ID, CRC32C, SSL, NOOP), skipped',
    bytes: v2(0x21, 0x11, [
      ...ipv4('203.0.113.7'),
      ...ipv4('198.51.100.1'),
      ...port(40000),
      ...port(65432),
      ...tlv(0x01, ascii('h2')),
      ...tlv(0x02, ascii('example.com')),
      ...tlv(0x05, Array<number>(128).fill(0x61)),
      ...tlv(0x03, [0xde, 0xad, 0xbe, 0xef]),
      ...tlv(0x20, [0x01, 0, 0, 0, 0, ...tlv(0x21, ascii('TLSv1.3'))]),
      ...tlv(0x04, []),
    ]),
    expected: { version: 2, command: 'proxy', source: address('IPv4', '203.0.113.7', 40000), destination: address('IPv4', '198.51.100.1', 65432) },
  },
];

interface InvalidFixture {
  readonly name: string;
  readonly bytes: Buffer;
  readonly message: RegExp;
  /** The shortest prefix that must be refused: the first byte that proves the header wrong. */
  readonly refusedAt: number;
  readonly options?: ProxyHeaderOptions;
}

const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');
const GOOD_V1 = 'PROXY TCP4 1.2.3.4 5.6.7.8 80 443';
const GOOD_V4_BLOCK = [...ipv4('1.2.3.4'), ...ipv4('5.6.7.8'), ...port(80), ...port(443)];

const INVALID: readonly InvalidFixture[] = [
  { name: 'an HTTP request', bytes: latin1('GET / HTTP/1.1\r\n\r\n'), message: /^not a PROXY protocol header: it starts with 0x47$/, refusedAt: 1 },
  { name: 'a TLS ClientHello', bytes: Buffer.of(0x16, 0x03, 0x01, 0x02, 0x00), message: /starts with 0x16/, refusedAt: 1 },
  { name: "the project's own first frame", bytes: Buffer.of(0x00, 0x5d, 0x7b), message: /starts with 0x00/, refusedAt: 1 },
  { name: 'an HTTP POST (starts with P)', bytes: latin1('POST / HTTP/1.1\r\n'), message: /^not a PROXY protocol header: the first bytes are not "PROXY "$/, refusedAt: 2 },
  { name: '"PROXY" without its space', bytes: latin1('PROXY\r\n'), message: /are not "PROXY "/, refusedAt: 6 },
  { name: 'a lower-case protocol', bytes: latin1('PROXY tcp4 1.2.3.4 5.6.7.8 80 443\r\n'), message: /^PROXY v1 protocol "t" is not TCP4, TCP6 or UNKNOWN$/, refusedAt: 7 },
  { name: 'protocol TCP5', bytes: latin1('PROXY TCP5 1.2.3.4 5.6.7.8 80 443\r\n'), message: /protocol "TCP5" is not/, refusedAt: 10 },
  { name: 'UNKNOWN run into the next field', bytes: latin1('PROXY UNKNOWNX\r\n'), message: /protocol "UNKNOWNX" is not/, refusedAt: 14 },
  { name: 'two spaces after the protocol', bytes: latin1('PROXY TCP4  1.2.3.4 5.6.7.8 80 443\r\n'), message: /source address "" is not an IPv4 address/, refusedAt: 12 },
  { name: 'an octet over 255', bytes: latin1('PROXY TCP4 256.1.1.1 5.6.7.8 80 443\r\n'), message: /source address "256" is not an IPv4/, refusedAt: 14 },
  { name: 'an octet with a leading zero', bytes: latin1('PROXY TCP4 1.2.3.04 5.6.7.8 80 443\r\n'), message: /source address "1.2.3.04"/, refusedAt: 19 },
  { name: 'three octets', bytes: latin1('PROXY TCP4 1.2.3 5.6.7.8 80 443\r\n'), message: /source address "1.2.3" is not/, refusedAt: 17 },
  { name: 'an IPv6 address on a TCP4 line', bytes: latin1('PROXY TCP4 ::1 ::1 80 443\r\n'), message: /source address ":" is not an IPv4/, refusedAt: 12 },
  { name: 'an IPv4 address on a TCP6 line', bytes: latin1('PROXY TCP6 1.2.3.4 ::1 80 443\r\n'), message: /source address "1.2.3.4" is not an IPv6/, refusedAt: 19 },
  { name: 'an IPv6 group of five digits', bytes: latin1('PROXY TCP6 12345::1 ::1 80 443\r\n'), message: /source address "12345" is not an IPv6/, refusedAt: 16 },
  { name: 'two "::" in an IPv6 address', bytes: latin1('PROXY TCP6 1::2::3 ::1 80 443\r\n'), message: /source address "1::2::"/, refusedAt: 17 },
  { name: 'nine IPv6 groups', bytes: latin1('PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 80 443\r\n'), message: /source address "1:2:3:4:5:6:7:8:9" is not an IPv6/, refusedAt: 29 },
  { name: 'an IPv6 zone', bytes: latin1('PROXY TCP6 fe80::1%eth0 ::1 80 443\r\n'), message: /source address "fe80::1%"/, refusedAt: 19 },
  { name: 'a port over 65535', bytes: latin1('PROXY TCP4 1.2.3.4 5.6.7.8 65536 443\r\n'), message: /source port "65536" is not a port \(0 to 65535, no leading zeros\)/, refusedAt: 32 },
  { name: 'a port with a leading zero', bytes: latin1('PROXY TCP4 1.2.3.4 5.6.7.8 080 443\r\n'), message: /source port "08"/, refusedAt: 29 },
  { name: 'a signed port', bytes: latin1('PROXY TCP4 1.2.3.4 5.6.7.8 80 +443\r\n'), message: /destination port "\+"/, refusedAt: 31 },
  { name: 'a control byte in a field, escaped in the message', bytes: latin1('PROXY TCP4 1.2.3.4 5.6.7.8 80 44\x1b[2J\r\n'), message: /destination port "44\\x1b"/, refusedAt: 33 },
  { name: 'a missing destination port', bytes: latin1('PROXY TCP4 1.2.3.4 5.6.7.8 80\r\n'), message: /^PROXY v1 TCP4 line ends after 3 of its 4 fields/, refusedAt: 31 },
  { name: 'TCP6 with no addresses', bytes: latin1('PROXY TCP6\r\n'), message: /TCP6 line ends after 0 of its 4 fields/, refusedAt: 12 },
  { name: 'a space before the CRLF', bytes: latin1(`${GOOD_V1} \r\n`), message: /TCP4 line has more than 4 fields/, refusedAt: GOOD_V1.length + 1 },
  { name: 'a line ended by LF alone', bytes: latin1(`${GOOD_V1}\n`), message: /^PROXY v1 line has an LF without a CR before it$/, refusedAt: GOOD_V1.length + 1 },
  { name: 'a line ended by CR alone', bytes: latin1(`${GOOD_V1}\rGET`), message: /^PROXY v1 line has a CR not followed by LF$/, refusedAt: GOOD_V1.length + 2 },
  {
    name: 'an UNKNOWN line with no CRLF in its first 107 bytes',
    bytes: latin1(`PROXY UNKNOWN ${'x'.repeat(200)}`),
    message: /^PROXY v1 line longer than 107 bytes$/,
    refusedAt: PROXY_V1_MAX_LENGTH,
  },
  {
    name: 'an UNKNOWN line of 108 bytes, CRLF included',
    bytes: latin1(`PROXY UNKNOWN ${'x'.repeat(PROXY_V1_MAX_LENGTH - 16 + 1)}\r\n`),
    message: /longer than 107 bytes/,
    refusedAt: PROXY_V1_MAX_LENGTH,
  },
  { name: 'a v2 signature wrong at its fifth byte', bytes: Buffer.of(0x0d, 0x0a, 0x0d, 0x0a, 0x01, 0x0d), message: /^not a PROXY protocol header: the first bytes are not the v2 signature$/, refusedAt: 5 },
  { name: 'v2 CR LF CR LF and then text', bytes: latin1('\r\n\r\nHELLO'), message: /not the v2 signature/, refusedAt: 5 },
  { name: 'v2 version 1', bytes: v2(0x11, 0x11, GOOD_V4_BLOCK), message: /^PROXY v2 version 1 is not 2$/, refusedAt: 13 },
  { name: 'v2 version 3', bytes: v2(0x31, 0x11, GOOD_V4_BLOCK), message: /version 3 is not 2/, refusedAt: 13 },
  { name: 'v2 command 0x2', bytes: v2(0x22, 0x11, GOOD_V4_BLOCK), message: /^PROXY v2 command 0x2 is neither LOCAL \(0x0\) nor PROXY \(0x1\)$/, refusedAt: 13 },
  { name: 'v2 address family 0x4', bytes: v2(0x21, 0x41, GOOD_V4_BLOCK), message: /^PROXY v2 unknown address family 0x4$/, refusedAt: 14 },
  { name: 'v2 transport 0x3', bytes: v2(0x21, 0x13, GOOD_V4_BLOCK), message: /^PROXY v2 unknown transport protocol 0x3$/, refusedAt: 14 },
  { name: 'v2 announcing the most the length can say', bytes: v2(0x21, 0x11, GOOD_V4_BLOCK, 0xffff), message: /^PROXY v2 header of 65551 bytes exceeds the limit of 4096 bytes$/, refusedAt: 16 },
  {
    name: 'v2 one byte over a configured limit',
    bytes: v2(0x21, 0x11, [...GOOD_V4_BLOCK, ...tlv(0x04, [0])]),
    message: /header of 32 bytes exceeds the limit of 31 bytes/,
    refusedAt: 16,
    options: { maxV2Length: 31 },
  },
  { name: 'v2 IPv4 with an 11-byte block', bytes: v2(0x21, 0x11, GOOD_V4_BLOCK.slice(0, 11)), message: /^PROXY v2 address block of 11 bytes is shorter than the 12 its family needs$/, refusedAt: 16 },
  { name: 'v2 IPv6 with an IPv4 block', bytes: v2(0x21, 0x21, GOOD_V4_BLOCK), message: /block of 12 bytes is shorter than the 36/, refusedAt: 16 },
  { name: 'v2 UNIX with a short block', bytes: v2(0x21, 0x31, Array<number>(108).fill(0)), message: /block of 108 bytes is shorter than the 216/, refusedAt: 16 },
  { name: 'v2 two stray bytes after the addresses', bytes: v2(0x21, 0x11, [...GOOD_V4_BLOCK, 1, 0]), message: /^PROXY v2 TLV at byte 28 is cut short by the header's end$/, refusedAt: 30 },
  { name: 'v2 a TLV longer than the header', bytes: v2(0x21, 0x11, [...GOOD_V4_BLOCK, 0x02, 0x00, 0x05, 0x61]), message: /^PROXY v2 TLV at byte 28 runs past the header's end$/, refusedAt: 32 },
];

// ---- feeding -----------------------------------------------------------------------------------



/** What a stream came to: the header (its rest joined with the pieces after it), or the error, or nothing yet. */
interface Outcome {
  readonly header?: Omit<ProxyHeader, 'rest'>;
  /** The header's rest followed by the pieces not pushed: what the next layer gets. */
  readonly after?: string;
  readonly error?: string;
  /** Bytes held at the end when the stream stopped short. */
  readonly held: number;
}

/**
 * Pushes pieces as a connection would until the header is complete, then hands the rest to "the
 * next layer". Between pushes the parser must hold less than a whole header: under 107 bytes
 * for a line, under the v2 limit otherwise.
 */
function feed(pieces: readonly Buffer[], options: ProxyHeaderOptions = {}): Outcome {
  const parser = new ProxyHeaderParser(options);
  const bound = Math.max(PROXY_V1_MAX_LENGTH, options.maxV2Length ?? PROXY_V2_DEFAULT_MAX_LENGTH);
  for (const [i, piece] of pieces.entries()) {
    let result;
    try {
      result = parser.push(piece);
    } catch (error) {
      assert.ok(error instanceof ProxyHeaderError, `only ProxyHeaderError is thrown, got ${String(error)}`);
      assert.ok(error instanceof ProtocolError);
      assert.equal(error.code, ErrorCode.proxyHeader);
      assert.equal(error.name, 'ProxyHeaderError');
      assert.equal(error.fatal, true);
      assert.equal(parser.buffered, 0, 'a failed parser lets go of what it held');
      assert.throws(() => parser.push(Buffer.from('more')), (again) => again === error);
      assert.equal(parser.incomplete(), error);
      return { error: error.message, held: 0 };
    }
    if (result !== undefined) {
      const { rest, ...header } = result;
      assert.equal(parser.buffered, 0, 'a complete header leaves nothing held');
      assert.throws(() => parser.push(Buffer.of(1)), (error) => !(error instanceof ProtocolError), 'pushing past the header is a mistake, not a protocol error');
      return { header, after: Buffer.concat([rest, ...pieces.slice(i + 1)]).toString('hex'), held: 0 };
    }
    assert.ok(parser.buffered < bound, `holds ${parser.buffered} bytes between pushes (bound ${bound})`);
  }
  return { held: parser.buffered };
}

/** The same stream whole, byte by byte and at the split points comes to the same outcome. */
function assertSplitInvariant(bytes: Buffer, points: readonly number[], options: ProxyHeaderOptions = {}): Outcome {
  const whole = feed([Buffer.from(bytes)], options);
  assert.deepEqual(feed(byteByByte(bytes), options), whole, 'byte by byte as whole');
  assert.deepEqual(feed(splitAt(bytes, points), options), whole, `split at ${String(points)} as whole`);
  return whole;
}

// ---- the fixtures --------------------------------------------------------------------------------

void describe('ProxyHeaderParser on valid headers', () => {
  for (const fixture of VALID) {
    const stream = Buffer.concat([fixture.bytes, TRAILER]);
    const expected: Outcome = { header: { ...fixture.expected, length: fixture.bytes.length }, after: TRAILER.toString('hex'), held: 0 };

    void it(`${fixture.name}: fed whole`, () => {
      assert.deepEqual(feed([Buffer.from(stream)]), expected);
    });

    void it(`${fixture.name}: fed one byte at a time`, () => {
      assert.deepEqual(feed(byteByByte(stream)), expected);
    });

    void it(`${fixture.name}: fed at random split points`, () => {
      fc.assert(
        fc.property(fc.array(fc.nat(), { maxLength: 12 }), (points) => {
          assert.deepEqual(feed(splitAt(stream, points)), expected);
        }),
        { numRuns: 100 },
      );
    });

    void it(`${fixture.name}: every prefix is awaited, and named as truncated if the stream ends there`, () => {
      for (let n = 0; n < fixture.bytes.length; n++) {
        const parser = new ProxyHeaderParser();
        assert.equal(parser.push(fixture.bytes.subarray(0, n)), undefined, `after ${n} bytes`);
        assert.equal(parser.buffered, n);
        const message = parser.incomplete().message;
        if (n === 0) assert.equal(message, 'no PROXY protocol header received');
        else if (fixture.expected.version === 1) assert.equal(message, `PROXY v1 line truncated: ${n} bytes and no CRLF`);
        else if (n < PROXY_V2_FIXED_LENGTH) assert.equal(message, `PROXY v2 header truncated: ${n} of at least 16 bytes`);
        else assert.equal(message, `PROXY v2 header truncated: ${n} of ${fixture.bytes.length} bytes`);
      }
    });
  }

  void it('hands back the rest without a copy when the header and what follows come in one chunk', () => {
    const stream = Buffer.concat([VALID[0]?.bytes ?? Buffer.alloc(0), TRAILER]);
    const header = new ProxyHeaderParser().push(stream);
    assert.equal(header?.rest.buffer, stream.buffer);
    assert.deepEqual(header?.rest, TRAILER);
  });

  void it('accepts a v2 header exactly at the limit, the default one and a configured one', () => {
    const atLimit = (limit: number): Buffer => v2(0x21, 0x11, [...GOOD_V4_BLOCK, ...tlv(0xe0, Array<number>(limit - 16 - 12 - 3).fill(7))]);
    assert.equal(new ProxyHeaderParser().push(atLimit(PROXY_V2_DEFAULT_MAX_LENGTH))?.length, PROXY_V2_DEFAULT_MAX_LENGTH);
    assert.equal(new ProxyHeaderParser({ maxV2Length: PROXY_V2_MAX_LENGTH }).push(atLimit(PROXY_V2_MAX_LENGTH))?.length, PROXY_V2_MAX_LENGTH);
    assert.equal(new ProxyHeaderParser({ maxV2Length: 100 }).push(atLimit(100))?.length, 100);
  });

  void it('refuses a limit the v2 length field cannot meet', () => {
    for (const maxV2Length of [15, PROXY_V2_MAX_LENGTH + 1, 1.5, Number.NaN]) {
      assert.throws(() => new ProxyHeaderParser({ maxV2Length }), RangeError, String(maxV2Length));
    }
  });
});

void describe('ProxyHeaderParser on invalid headers', () => {
  for (const fixture of INVALID) {
    void it(`${fixture.name}: refused at byte ${fixture.refusedAt}, fed whole, byte by byte and at random split points`, () => {
      fc.assert(
        fc.property(fc.array(fc.nat(), { maxLength: 12 }), (points) => {
          assert.match(assertSplitInvariant(fixture.bytes, points, fixture.options).error ?? '(no error)', fixture.message);
        }),
        { numRuns: 50 },
      );
      assert.match(feed([fixture.bytes.subarray(0, fixture.refusedAt)], fixture.options).error ?? '(no error)', fixture.message, 'refused once the proving byte is in');
      assert.deepEqual(feed([fixture.bytes.subarray(0, fixture.refusedAt - 1)], fixture.options), { held: fixture.refusedAt - 1 }, 'not a byte sooner');
    });
  }
});

// ---- addresses against Node's own parser and printer -------------------------------------------

/** 16 bytes, often with runs of zero words and the IPv4-mapped and -compatible prefixes, where printing has its special cases. */
const ipv6Bytes = fc.oneof(
  fc.uint8Array({ minLength: 16, maxLength: 16 }),
  fc.array(fc.constantFrom(0, 0, 0, 1, 0xffff, 0x102), { minLength: 8, maxLength: 8 }).map((words) => Uint8Array.from(words.flatMap(port))),
  fc.uint8Array({ minLength: 4, maxLength: 4 }).chain((v4) =>
    fc.constantFrom([...Array<number>(10).fill(0), 0xff, 0xff, ...v4], [...Array<number>(12).fill(0), ...v4]).map((b) => Uint8Array.from(b)),
  ),
);

const fullForm = (bytes: Uint8Array): string => Array.from({ length: 8 }, (_, i) => (((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0)).toString(16).padStart(4, '0')).join(':');

/** Node's verdict on an IPv6 text: its canonical form, or undefined if it refuses it. */
function nodeIPv6(text: string): string | undefined {
  try {
    return new SocketAddress({ address: text, family: 'ipv6' }).address;
  } catch {
    return undefined;
  }
}

/** The pieces IPv6 texts are made of, so that most texts built of them are near misses. */
const IPV6_PIECE = fc.constantFrom('0', '1', 'f', 'F', 'ffff', '00000', '12345', ':', ':', '::', '.', '1.2.3.4', '255.255.255.255', '01.2.3.4', '256.0.0.1', 'g');

void describe('PROXY header addresses', () => {
  void it('prints IPv6 exactly as Node prints a socket address', () => {
    fc.assert(
      fc.property(ipv6Bytes, (bytes) => {
        assert.equal(formatIPv6(bytes, 0), nodeIPv6(fullForm(bytes)));
      }),
      { numRuns: 1000 },
    );
  });

  void it('reads every form Node reads of an IPv6 address, to the same bytes', () => {
    const forms = ipv6Bytes.chain((bytes) =>
      fc.constantFrom(fullForm(bytes), fullForm(bytes).toUpperCase(), formatIPv6(bytes, 0), fullForm(bytes).replace(/(^|:)0{1,3}/g, '$1')).map((text) => [bytes, text] as const),
    );
    fc.assert(
      fc.property(forms, ([bytes, text]) => {
        assert.deepEqual(parseIPv6(text), bytes, text);
      }),
      { numRuns: 1000 },
    );
  });

  void it('refuses exactly the IPv6 texts Node refuses', () => {
    fc.assert(
      fc.property(fc.array(IPV6_PIECE, { maxLength: 14 }), (pieces) => {
        const text = pieces.join('');
        const node = nodeIPv6(text);
        const ours = parseIPv6(text);
        assert.equal(ours === undefined ? undefined : formatIPv6(ours, 0), node, text);
      }),
      { numRuns: 3000 },
    );
  });

  void it('reads v1 TCP6 addresses exactly as Node reads IPv6, fed one byte at a time', () => {
    fc.assert(
      fc.property(fc.array(IPV6_PIECE, { maxLength: 14 }), (pieces) => {
        const host = pieces.join('');
        const outcome = feed(byteByByte(latin1(`PROXY TCP6 ${host} ::1 1 2\r\n`)));
        assert.equal(outcome.header?.source?.host, nodeIPv6(host), host);
      }),
      { numRuns: 1000 },
    );
  });

  void it('reads v1 TCP4 addresses exactly as Node validates IPv4', () => {
    const piece = fc.constantFrom('0', '1', '9', '25', '255', '256', '00', '01', '300', '.', '.', '.');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 9 }), (pieces) => {
        const host = pieces.join('');
        const outcome = feed([latin1(`PROXY TCP4 ${host} 1.1.1.1 1 2\r\n`)]);
        assert.equal(outcome.header !== undefined, isIPv4(host), host);
        if (outcome.header !== undefined) assert.equal(outcome.header.source?.host, host);
      }),
      { numRuns: 1000 },
    );
  });
});

// ---- fuzzing -------------------------------------------------------------------------------------

/** One edit of a byte stream, at a position given as a fraction of its length. */
const edit = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), count: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }) }),
);

function mutate(bytes: Buffer, edits: ReadonlyArray<typeof edit extends fc.Arbitrary<infer T> ? T : never>): Buffer {
  let out = Buffer.from(bytes);
  for (const e of edits) {
    const at = Math.floor(e.at * out.length);
    if (e.kind === 'set') out[at] = e.byte;
    else if (e.kind === 'delete') out = Buffer.concat([out.subarray(0, at), out.subarray(at + e.count)]);
    else out = Buffer.concat([out.subarray(0, at), e.bytes, out.subarray(at)]);
  }
  return out;
}

const SMALL_LIMIT: ProxyHeaderOptions = { maxV2Length: 64 };

void describe('ProxyHeaderParser fuzzed', () => {
  const signatureThenBytes = fc.tuple(
    fc.constantFrom(Buffer.alloc(0), latin1('PROXY '), latin1('PROXY TCP4 '), latin1('PROXY TCP6 '), latin1('PROXY UNKNOWN'), Buffer.from(V2_SIGNATURE), Buffer.from([...V2_SIGNATURE, 0x21])),
    fc.uint8Array({ maxLength: 200 }),
  );

  void it('random bytes, after a signature or not: only ProxyHeaderError, bounded holding, the same outcome whatever the split', () => {
    for (const options of [{}, SMALL_LIMIT]) {
      fc.assert(
        fc.property(signatureThenBytes, fc.array(fc.nat(), { maxLength: 20 }), ([start, body], points) => {
          assertSplitInvariant(Buffer.concat([start, body]), points, options);
        }),
        { numRuns: RUNS },
      );
    }
  });

  void it('random printable lines: only ProxyHeaderError, bounded holding, the same outcome whatever the split', () => {
    const line = fc.string({ unit: fc.constantFrom(...'PROXY TCP46UNKNOW 0123456789abcdefABCDEF.:\r\n'), maxLength: 140 }).map((text) => latin1(`PROXY ${text}`));
    fc.assert(
      fc.property(line, fc.array(fc.nat(), { maxLength: 20 }), (bytes, points) => {
        assertSplitInvariant(bytes, points);
      }),
      { numRuns: RUNS },
    );
  });

  void it('mutated valid headers: only ProxyHeaderError, bounded holding, the same outcome whatever the split', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...VALID),
        fc.array(edit, { minLength: 1, maxLength: 3 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (fixture, edits, points) => {
          const outcome = assertSplitInvariant(mutate(Buffer.concat([fixture.bytes, TRAILER]), edits), points, SMALL_LIMIT);
          if (outcome.header !== undefined) assert.ok(outcome.header.length <= (outcome.header.version === 1 ? PROXY_V1_MAX_LENGTH : 64));
        },
      ),
      { numRuns: RUNS },
    );
  });

  void it('a v2 length over the limit is refused on the 16 fixed bytes alone, one within it awaited', () => {
    fc.assert(
      fc.property(fc.integer({ min: 16, max: 1000 }), fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 1000 })), (limit, length) => {
        const outcome = feed([v2(0x21, 0x00, [], length)], { maxV2Length: limit });
        if (16 + length > limit) assert.equal(outcome.error, `PROXY v2 header of ${16 + length} bytes exceeds the limit of ${limit} bytes`);
        else if (length === 0) assert.deepEqual(outcome.header, { version: 2, command: 'proxy', length: 16 });
        else assert.deepEqual(outcome, { held: 16 });
      }),
      { numRuns: RUNS },
    );
  });
});

// ---- round trips ---------------------------------------------------------------------------------

const ipv4Address = fc.tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.nat({ max: 0xffff })).map(([b, p]) => address('IPv4', Array.from(b).join('.'), p));
const ipv6Address = fc.tuple(ipv6Bytes, fc.nat({ max: 0xffff })).map(([b, p]) => address('IPv6', nodeIPv6(fullForm(b)) ?? '', p));
const addressPair = fc.oneof(fc.tuple(ipv4Address, ipv4Address), fc.tuple(ipv6Address, ipv6Address));
const fields: fc.Arbitrary<ProxyHeaderFields> = fc.oneof(
  addressPair.map(([source, destination]) => ({ command: 'proxy' as const, source, destination })),
  fc.constant({ command: 'proxy' as const }),
  fc.constant({ command: 'local' as const }),
);
const tlvs = fc.array(fc.record({ type: fc.integer({ min: 0, max: 255 }), value: fc.uint8Array({ maxLength: 40 }) }), { maxLength: 4 });

void describe('PROXY headers round-trip through the encoder', () => {
  void it('v1: the fields come back, and the bytes after the header untouched, whatever the split', () => {
    fc.assert(
      fc.property(fields, fc.uint8Array({ maxLength: 30 }), fc.array(fc.nat(), { maxLength: 12 }), (header, after, points) => {
        fc.pre(header.command === 'proxy');
        const bytes = encodeProxyHeader(1, header);
        const outcome = assertSplitInvariant(Buffer.concat([bytes, after]), points);
        assert.deepEqual(outcome, { header: { version: 1, ...header, length: bytes.length }, after: Buffer.from(after).toString('hex'), held: 0 });
      }),
      { numRuns: RUNS },
    );
  });

  void it('v2 with TLVs: the fields come back (addresses dropped for LOCAL), and the bytes after the header untouched', () => {
    fc.assert(
      fc.property(fields, tlvs, fc.uint8Array({ maxLength: 30 }), fc.array(fc.nat(), { maxLength: 12 }), (header, extensions, after, points) => {
        const bytes = encodeProxyHeader(2, header, extensions);
        const outcome = assertSplitInvariant(Buffer.concat([bytes, after]), points);
        assert.deepEqual(outcome, { header: { version: 2, ...header, length: bytes.length }, after: Buffer.from(after).toString('hex'), held: 0 });
      }),
      { numRuns: RUNS },
    );
  });

  void it('the encoder writes the spec fixtures byte for byte', () => {
    for (const fixture of VALID.filter((f) => f.encoderWrites)) {
      assert.deepEqual(encodeProxyHeader(fixture.expected.version, fixture.expected), fixture.bytes, fixture.name);
    }
  });

  void it('refuses to encode what the protocol cannot say', () => {
    const a4 = address('IPv4', '1.2.3.4', 1);
    const a6 = address('IPv6', '::1', 1);
    assert.throws(() => encodeProxyHeader(1, { command: 'local' }), TypeError);
    assert.throws(() => encodeProxyHeader(2, { command: 'local', source: a4, destination: a4 }), TypeError);
    assert.throws(() => encodeProxyHeader(2, { command: 'proxy', source: a4 }), TypeError);
    assert.throws(() => encodeProxyHeader(2, { command: 'proxy', source: a4, destination: a6 }), TypeError);
    assert.throws(() => encodeProxyHeader(1, { command: 'proxy', source: address('IPv4', '1.2.3.04', 1), destination: a4 }), TypeError);
    assert.throws(() => encodeProxyHeader(2, { command: 'proxy', source: address('IPv4', '1.2.3.4', 65536), destination: a4 }), RangeError);
    assert.throws(() => encodeProxyHeader(2, { command: 'proxy' }, [{ type: 1, value: new Uint8Array(0x10000) }]), RangeError);
  });
});
