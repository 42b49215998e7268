/**
 * Frames as the original Python programs put them on the wire, produced by Python 3.11 with
 * the original's own code path (`json.dumps(header, ensure_ascii=False).encode('utf-8')`,
 * `struct.pack('>H', len(header))`) and pasted here as hex, so that the tests compare against
 * the original's bytes rather than against our encoder.
 */

export interface WireFixture {
  readonly name: string;
  /** The whole frame, prefix included, exactly as Python wrote it. */
  readonly hex: string;
  /** The header as a reader must see it. */
  readonly header: Readonly<Record<string, unknown>>;
  /** The content, as latin1 text. */
  readonly content: string;
  /** Which side sends it: decides which keys are required. */
  readonly from: 'server' | 'client';
  /** True when every header value is a string or a number (what our encoder takes). */
  readonly flat: boolean;
}

const SERVER = 'binary/custom-server-binary-type';
const CLIENT = 'binary/custom-client-binary-type';

export const WIRE_FIXTURES: readonly WireFixture[] = [
  {
    name: 'original server chunk',
    hex:
      '008f7b22627974656f72646572223a20226c6974746c65222c2022636f6e74656e742d74797065223a202262696e6172792f637573746f6d2d7365727665722d62696e6172792d74797065222c2022636f6e74656e742d656e636f64696e67223a202262696e617279222c2022636f6e74656e742d6c656e677468223a20352c2022736c6565705f74696d65223a20337d7464336b6b',
    header: { byteorder: 'little', 'content-type': SERVER, 'content-encoding': 'binary', 'content-length': 5, sleep_time: 3 },
    content: 'td3kk',
    from: 'server',
    flat: true,
  },
  {
    name: 'original statistics answer',
    hex:
      '00907b22627974656f72646572223a20226c6974746c65222c2022636f6e74656e742d74797065223a202262696e6172792f637573746f6d2d7365727665722d62696e6172792d74797065222c2022636f6e74656e742d656e636f64696e67223a202262696e617279222c2022636f6e74656e742d6c656e677468223a2033352c2022736c6565705f74696d65223a20337d537461746973746963733a20382073796d626f6c73207761732064656c697665726564',
    header: { byteorder: 'little', 'content-type': SERVER, 'content-encoding': 'binary', 'content-length': 35, sleep_time: 3 },
    content: 'Statistics: 8 symbols was delivered',
    from: 'server',
    flat: true,
  },
  {
    name: 'chunk with a fractional sleep_time and message-type',
    hex:
      '00ad7b22627974656f72646572223a20226c6974746c65222c2022636f6e74656e742d74797065223a202262696e6172792f637573746f6d2d7365727665722d62696e6172792d74797065222c2022636f6e74656e742d656e636f64696e67223a202262696e617279222c2022636f6e74656e742d6c656e677468223a20322c2022736c6565705f74696d65223a20302e32352c20226d6573736167652d74797065223a202273796d626f6c73227d5a71',
    header: {
      byteorder: 'little',
      'content-type': SERVER,
      'content-encoding': 'binary',
      'content-length': 2,
      sleep_time: 0.25,
      'message-type': 'symbols',
    },
    content: 'Zq',
    from: 'server',
    flat: true,
  },
  {
    name: 'statistics answer with message-type',
    hex:
      '00ae7b22627974656f72646572223a20226c6974746c65222c2022636f6e74656e742d74797065223a202262696e6172792f637573746f6d2d7365727665722d62696e6172792d74797065222c2022636f6e74656e742d656e636f64696e67223a202262696e617279222c2022636f6e74656e742d6c656e677468223a2033352c2022736c6565705f74696d65223a20312c20226d6573736167652d74797065223a202273746174697374696373227d537461746973746963733a20302073796d626f6c73207761732064656c697665726564',
    header: {
      byteorder: 'little',
      'content-type': SERVER,
      'content-encoding': 'binary',
      'content-length': 35,
      sleep_time: 1,
      'message-type': 'statistics',
    },
    content: 'Statistics: 0 symbols was delivered',
    from: 'server',
    flat: true,
  },
  {
    name: 'error frame',
    hex:
      '00a97b22627974656f72646572223a20226c6974746c65222c2022636f6e74656e742d74797065223a202262696e6172792f637573746f6d2d7365727665722d62696e6172792d74797065222c2022636f6e74656e742d656e636f64696e67223a202262696e617279222c2022636f6e74656e742d6c656e677468223a2031312c2022736c6565705f74696d65223a20302c20226d6573736167652d74797065223a20226572726f72227d7365727665722066756c6c',
    header: {
      byteorder: 'little',
      'content-type': SERVER,
      'content-encoding': 'binary',
      'content-length': 11,
      sleep_time: 0,
      'message-type': 'error',
    },
    content: 'server full',
    from: 'server',
    flat: true,
  },
  {
    name: 'shutdown frame from a big-endian sender',
    hex:
      '00a97b22627974656f72646572223a2022626967222c2022636f6e74656e742d74797065223a202262696e6172792f637573746f6d2d7365727665722d62696e6172792d74797065222c2022636f6e74656e742d656e636f64696e67223a202262696e617279222c2022636f6e74656e742d6c656e677468223a2031352c2022736c6565705f74696d65223a20302c20226d6573736167652d74797065223a202273687574646f776e227d7365727665722073746f7070696e67',
    header: {
      byteorder: 'big',
      'content-type': SERVER,
      'content-encoding': 'binary',
      'content-length': 15,
      sleep_time: 0,
      'message-type': 'shutdown',
    },
    content: 'server stopping',
    from: 'server',
    flat: true,
  },
  {
    name: 'original client statistics request',
    hex:
      '007e7b22627974656f72646572223a20226c6974746c65222c2022636f6e74656e742d74797065223a202262696e6172792f637573746f6d2d636c69656e742d62696e6172792d74797065222c2022636f6e74656e742d656e636f64696e67223a202262696e617279222c2022636f6e74656e742d6c656e677468223a20317d73',
    header: { byteorder: 'little', 'content-type': CLIENT, 'content-encoding': 'binary', 'content-length': 1 },
    content: 's',
    from: 'client',
    flat: true,
  },
  {
    name: 'unknown string key with non-ASCII text, quotes, a backslash and control characters',
    hex:
      '00ba7b22627974656f72646572223a20226c6974746c65222c2022636f6e74656e742d74797065223a202262696e6172792f637573746f6d2d7365727665722d62696e6172792d74797065222c2022636f6e74656e742d656e636f64696e67223a202262696e617279222c2022636f6e74656e742d6c656e677468223a20312c2022736c6565705f74696d65223a20322c20226e6f7465223a202268c3a96c6c6f20e29883205c22715c22205c5c205c6e5c745c75303030317f227d78',
    header: {
      byteorder: 'little',
      'content-type': SERVER,
      'content-encoding': 'binary',
      'content-length': 1,
      sleep_time: 2,
      note: 'h\u00e9llo \u2603 "q" \\ \n\t\u0001\u007f',
    },
    content: 'x',
    from: 'server',
    flat: true,
  },
  {
    name: 'empty content with unknown keys, one non-ASCII and one nested',
    hex:
      '00ba7b22627974656f72646572223a2022626967222c2022636f6e74656e742d74797065223a202262696e6172792f637573746f6d2d7365727665722d62696e6172792d74797065222c2022636f6e74656e742d656e636f64696e67223a202262696e617279222c2022636f6e74656e742d6c656e677468223a20302c2022736c6565705f74696d65223a20352c20226e6f7465223a202268c3a96c6c6f20e29883222c20226578747261223a207b2261223a205b312c20325d7d7d',
    header: {
      byteorder: 'big',
      'content-type': SERVER,
      'content-encoding': 'binary',
      'content-length': 0,
      sleep_time: 5,
      note: 'h\u00e9llo \u2603',
      extra: { a: [1, 2] },
    },
    content: '',
    from: 'server',
    flat: false,
  },
];

export function fixtureBytes(fixture: WireFixture): Buffer {
  return Buffer.from(fixture.hex, 'hex');
}
