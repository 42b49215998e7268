import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  UsageError,
  parseAlphabet,
  parseHost,
  parseInteger,
  parseMode,
  parsePort,
  parseRange,
  parseSeconds,
} from '../../src/cli/values.js';
import { DEFAULT_ALPHABET } from '../../src/server/config.js';
import { clientConfigFrom, MIN_SERVER_CONTENT, MIN_SERVER_HEADER } from '../../src/cli/client-command.js';
import { CLIENT_TLS_OPTIONS } from '../../src/cli/client-tls-options.js';
import { namingSources, parseCommandLine } from '../../src/cli/command-line.js';
import { MIN_REQUEST_HEADER, serverConfigFrom } from '../../src/cli/server-command.js';
import { FrameDecoder } from '../../src/protocol/decoder.js';
import { MAX_CHUNK_LENGTH } from '../../src/protocol/defaults.js';
import { encodeFrame } from '../../src/protocol/encoder.js';
import { HeaderTooLongError } from '../../src/protocol/errors.js';
import { MessageType, PREFIX_LENGTH } from '../../src/protocol/frame.js';
import { encodeClientRequest, serverFrameHead, statisticsText } from '../../src/protocol/messages.js';

/** No variables: what these tests parse is argv alone, whatever the environment they run in. */
const NO_ENV = { envPrefix: 'MULTI_SOCKET_', env: {} } as const;

/** A bad value gives a UsageError of one line that quotes what the user typed. */
function assertUsageError(action: () => unknown, mentions: readonly string[] = []): UsageError {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof UsageError, `expected a UsageError, got ${String(caught)}`);
  assert.equal(caught.name, 'UsageError');
  assert.ok(!caught.message.includes('\n'), `one line: ${JSON.stringify(caught.message)}`);
  for (const text of mentions) assert.ok(caught.message.includes(text), `"${caught.message}" mentions "${text}"`);
  return caught;
}

void describe('parsePort', () => {
  void it('accepts 0 to 65535', () => {
    assert.equal(parsePort('0'), 0);
    assert.equal(parsePort('1'), 1);
    assert.equal(parsePort('65432'), 65432);
    assert.equal(parsePort('65535'), 65535);
  });

  for (const text of ['65536', '99999', '123456', '-1', '', ' 80', '80 ', '+80', '8.0', '0x50', '1e3', 'http', '\uff18\uff10']) {
    void it(`rejects ${JSON.stringify(text)}`, () => {
      assertUsageError(() => parsePort(text), [`'${text}'`, 'port']);
    });
  }

  void it('refuses port 0 to a program that connects (nobody listens on it) and says which ports it takes', () => {
    assertUsageError(() => parsePort('0', 1), ["'0'", 'from 1 to 65535']);
    assertUsageError(() => parsePort('00', 1), ["'00'", 'from 1 to 65535']);
    assertUsageError(() => parsePort('70000', 1), ["'70000'", 'from 1 to 65535']);
    assert.equal(parsePort('1', 1), 1);
    assert.equal(parsePort('65535', 1), 65535);
  });
});

void describe('parseMode', () => {
  void it('accepts the four modes', () => {
    for (const mode of ['user', 'debug', 'quiet', 'json']) assert.equal(parseMode(mode), mode);
  });

  for (const text of ['', 'User', 'verbose', ' user']) {
    void it(`rejects ${JSON.stringify(text)} and lists the modes`, () => {
      assertUsageError(() => parseMode(text), ['user', 'debug', 'quiet', 'json']);
    });
  }
});

void describe('parseHost', () => {
  void it('accepts names and addresses', () => {
    for (const host of ['localhost', '127.0.0.1', '::', '::1', '0.0.0.0', 'example.com']) assert.equal(parseHost(host), host);
  });

  for (const text of ['', ' ', 'my host', 'host\t']) {
    void it(`rejects ${JSON.stringify(text)}`, () => {
      assertUsageError(() => parseHost(text));
    });
  }

  void it('refuses a bare number, which is a port given first, and shows the order', () => {
    // The system would read 8000 as the IPv4 address 0.0.31.64.
    for (const text of ['8000', '0', '65432', '123456789']) assertUsageError(() => parseHost(text), [`'${text}'`, 'port', `localhost ${text}`]);
  });

  void it('still takes addresses and names that contain digits', () => {
    for (const host of ['10.0.0.1', '8000.example', 'host8000', '::8000']) assert.equal(parseHost(host), host);
  });
});

void describe('parseRange', () => {
  const chars = { min: 1, max: 1 << 20 };
  const seconds = { min: 0, max: 86_400 };

  void it('reads MIN-MAX', () => {
    assert.deepEqual(parseRange('--chars', '1-5', true, chars), { min: 1, max: 5 });
    assert.deepEqual(parseRange('--interval', '0.25-1.5', false, seconds), { min: 0.25, max: 1.5 });
  });

  void it('reads a single value as exactly that value', () => {
    assert.deepEqual(parseRange('--chars', '3', true, chars), { min: 3, max: 3 });
    assert.deepEqual(parseRange('--interval', '0.5', false, seconds), { min: 0.5, max: 0.5 });
  });

  void it('accepts 0-0 for the interval', () => {
    assert.deepEqual(parseRange('--interval', '0-0', false, seconds), { min: 0, max: 0 });
  });

  void it('accepts the bounds themselves', () => {
    assert.deepEqual(parseRange('--chars', `1-${1 << 20}`, true, chars), { min: 1, max: 1 << 20 });
    assert.deepEqual(parseRange('--interval', '0-86400', false, seconds), { min: 0, max: 86_400 });
  });

  void it('rejects MIN greater than MAX', () => {
    assertUsageError(() => parseRange('--chars', '5-1', true, chars), ['--chars', "'5-1'", 'MIN is greater than MAX']);
    assertUsageError(() => parseRange('--chars', '2-1', true, chars), ['MIN is greater than MAX']);
    assertUsageError(() => parseRange('--interval', '0.5-0.25', false, seconds), ['MIN is greater than MAX']);
  });

  void it('accepts MIN equal to MAX', () => {
    assert.deepEqual(parseRange('--chars', '3-3', true, chars), { min: 3, max: 3 });
  });

  void it('rejects values outside the bounds', () => {
    assertUsageError(() => parseRange('--chars', '0-5', true, chars), ['--chars', "'0-5'"]);
    assertUsageError(() => parseRange('--chars', `1-${(1 << 20) + 1}`, true, chars), ['--chars']);
    assertUsageError(() => parseRange('--interval', '0-86401', false, seconds), ['--interval']);
  });

  void it('rejects fractions where whole numbers are expected', () => {
    assertUsageError(() => parseRange('--chars', '1.5-2', true, chars), ['--chars', "'1.5-2'", 'whole numbers']);
  });

  for (const text of ['', '-', '1-', '-5', '1-2-3', '1--2', 'a-b', '1 - 5', ' 1-5', '1-5 ', '.5-1', '1.-2', '1e1-2', '+1-2', '1,5']) {
    void it(`rejects the malformed range ${JSON.stringify(text)}`, () => {
      assertUsageError(() => parseRange('--interval', text, false, seconds), ['--interval', 'MIN-MAX']);
    });
  }
});

void describe('parseInteger', () => {
  void it('accepts whole numbers within the bounds, the bounds included', () => {
    assert.equal(parseInteger('--seed', '0', 0, 0xffff_ffff), 0);
    assert.equal(parseInteger('--seed', '4294967295', 0, 0xffff_ffff), 0xffff_ffff);
    assert.equal(parseInteger('--max-clients', '10', 1, 100), 10);
  });

  for (const text of ['4294967296', '-1', '1.0', '', ' 1', '1e3', '0x10', 'ten', '99999999999999999999999']) {
    void it(`rejects ${JSON.stringify(text)}`, () => {
      assertUsageError(() => parseInteger('--seed', text, 0, 0xffff_ffff), ['--seed', `'${text}'`]);
    });
  }

  void it('rejects a value below the minimum', () => {
    assertUsageError(() => parseInteger('--max-clients', '0', 1, 100), ['--max-clients', 'from 1 to 100']);
  });

  void it('says where a bound comes from when told', () => {
    assertUsageError(() => parseInteger('--max-header', '64', 126, 65535, "a real request's header is 126 bytes"), ['from 126 to 65535', "a real request's header is 126 bytes"]);
  });
});

void describe('parseSeconds', () => {
  void it('returns milliseconds, fractions allowed', () => {
    assert.equal(parseSeconds('--frame-timeout', '10', 1, 86_400_000), 10_000);
    assert.equal(parseSeconds('--frame-timeout', '0.5', 1, 86_400_000), 500);
    assert.equal(parseSeconds('--frame-timeout', '0.001', 1, 86_400_000), 1);
    assert.equal(parseSeconds('--shutdown-timeout', '0', 0, 86_400_000), 0);
    assert.equal(parseSeconds('--frame-timeout', '86400', 1, 86_400_000), 86_400_000);
  });

  for (const text of ['', '-1', 'abc', '1e3', '.5', '5s', ' 5', '86400.001', '0', '0.0001']) {
    void it(`rejects ${JSON.stringify(text)} for a timeout from 1 ms to a day`, () => {
      assertUsageError(() => parseSeconds('--frame-timeout', text, 1, 86_400_000), ['--frame-timeout']);
    });
  }
});

void describe('parseAlphabet', () => {
  void it('accepts printable ASCII symbols, each once', () => {
    assert.equal(parseAlphabet('abc'), 'abc');
    assert.equal(parseAlphabet('!~'), '!~');
    assert.equal(parseAlphabet('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'), 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789');
  });

  void it('takes spaces as separators between groups, never as a symbol', () => {
    assert.equal(parseAlphabet('ab c'), 'abc');
    assert.equal(parseAlphabet('  a  b '), 'ab');
    assertUsageError(() => parseAlphabet('   '), ['--alphabet', 'empty']);
  });

  void it('reads the default as it is written: A-Z a-z 0-9', () => {
    assert.equal(parseAlphabet('A-Z a-z 0-9'), DEFAULT_ALPHABET);
    assert.equal(parseAlphabet('A-Za-z0-9'), DEFAULT_ALPHABET);
  });

  void it('expands ranges of letters of one case and of digits, the ends included', () => {
    assert.equal(parseAlphabet('A-F'), 'ABCDEF');
    assert.equal(parseAlphabet('x-z 3-5'), 'xyz345');
    assert.equal(parseAlphabet('a-a'), 'a');
    assert.equal(parseAlphabet('A-C!?'), 'ABC!?');
  });

  void it("takes a '-' first or last in a group as the symbol itself", () => {
    assert.equal(parseAlphabet('-'), '-');
    assert.equal(parseAlphabet('-A-C'), '-ABC');
    assert.equal(parseAlphabet('A-C-'), 'ABC-');
    assert.equal(parseAlphabet('ab -'), 'ab-');
  });

  for (const text of ['+-/', 'a-Z', 'A-z', '0-z', 'F-A', '9-0', 'A-F-Z', 'a--b', 'a--', '!-~']) {
    void it(`refuses ${JSON.stringify(text)}: a '-' that could be a range or a symbol`, () => {
      assertUsageError(() => parseAlphabet(text), ['--alphabet', 'range', "'-'"]);
    });
  }

  void it("names a symbol that two groups or ranges both give (a repeated '-' too)", () => {
    assertUsageError(() => parseAlphabet('A-Z A-F'), ["'A'"]);
    assertUsageError(() => parseAlphabet('--'), ["'-'"]);
  });

  void it("rejects ':', which would make a chunk look like a statistics answer", () => {
    assertUsageError(() => parseAlphabet('ab:'), ['--alphabet', "':'"]);
  });

  for (const [name, text] of [
    ['a non-ASCII letter', 'ab\u00e9'],
    ['an emoji', 'a\u{1F600}'],
    ['a tab', 'a\tb'],
    ['DEL', 'a\x7f'],
    ['a NUL', 'a\x00'],
  ] as const) {
    void it(`rejects ${name}`, () => {
      assertUsageError(() => parseAlphabet(text), ['--alphabet']);
    });
  }

  void it('rejects a symbol given twice and names it', () => {
    assertUsageError(() => parseAlphabet('abca'), ['--alphabet', "'a'"]);
  });

  void it('rejects an empty alphabet', () => {
    assertUsageError(() => parseAlphabet(''), ['--alphabet', 'empty']);
  });
});

/** A header re-encoded as a little-endian machine writes it: "little" is the longer byteorder. */
function littleEndian(frame: Buffer): Buffer {
  const headerLength = frame.readUInt16BE(0);
  const header = JSON.parse(frame.subarray(PREFIX_LENGTH, PREFIX_LENGTH + headerLength).toString()) as Record<string, string | number>;
  return encodeFrame({ ...header, byteorder: 'little' }, frame.subarray(PREFIX_LENGTH + headerLength));
}

/** Whether a reader with this header limit takes the frame. */
function takes(frame: Buffer, maxHeaderLength: number): boolean {
  const decoder = new FrameDecoder({ maxHeaderLength, maxContentLength: 1 << 24, requiredKeys: [] });
  let frames = 0;
  try {
    decoder.push(frame, () => void frames++);
  } catch (error) {
    if (error instanceof HeaderTooLongError) return false;
    throw error;
  }
  return frames === 1;
}

void describe('the smallest limits let the programs work', () => {
  const request = littleEndian(encodeClientRequest());

  void it("the server's --max-header minimum is exactly a real request's header", () => {
    assert.ok(takes(request, MIN_REQUEST_HEADER));
    assert.ok(!takes(request, MIN_REQUEST_HEADER - 1));
    const options = { 'max-header': { type: 'string' } } as const;
    assert.equal(serverConfigFrom(parseCommandLine(['--max-header', String(MIN_REQUEST_HEADER)], options, NO_ENV)).maxHeaderLength, MIN_REQUEST_HEADER);
    assertUsageError(() => serverConfigFrom(parseCommandLine(['--max-header', '64'], options, NO_ENV)), ['--max-header', `from ${MIN_REQUEST_HEADER}`]);
  });

  void it("the client's --max-header minimum takes the longest header the server sends, and no less would", () => {
    // The longest wait --interval allows is 86400 s; waits are whole milliseconds.
    const largest = Object.values(MessageType).map((type) =>
      littleEndian(Buffer.concat([serverFrameHead(type, MAX_CHUNK_LENGTH, 86_399.999), Buffer.alloc(MAX_CHUNK_LENGTH)])),
    );
    for (const frame of largest) assert.ok(takes(frame, MIN_SERVER_HEADER), frame.subarray(0, 200).toString('latin1'));
    assert.ok(largest.some((frame) => !takes(frame, MIN_SERVER_HEADER - 1)), 'the minimum is no larger than it must be');
    const options = { 'max-header': { type: 'string' } } as const;
    assert.equal(clientConfigFrom(parseCommandLine(['--max-header', String(MIN_SERVER_HEADER)], options, { ...NO_ENV, minPort: 1 })).maxHeaderLength, MIN_SERVER_HEADER);
    assertUsageError(() => clientConfigFrom(parseCommandLine(['--max-header', '16'], options, { ...NO_ENV, minPort: 1 })), ['--max-header', `from ${MIN_SERVER_HEADER}`]);
  });

  void it("the client's --max-content minimum takes a statistics answer of any exact count", () => {
    assert.equal(MIN_SERVER_CONTENT, Buffer.byteLength(statisticsText(Number.MAX_SAFE_INTEGER)));
    const options = { 'max-content': { type: 'string' } } as const;
    assertUsageError(() => clientConfigFrom(parseCommandLine(['--max-content', String(MIN_SERVER_CONTENT - 1)], options, { ...NO_ENV, minPort: 1 })), ['--max-content']);
  });
});

void describe('options that need another option', () => {
  const options = { reconnect: { type: 'boolean' }, 'reconnect-delay': { type: 'string' }, 'reconnect-attempts': { type: 'string' } } as const;
  const config = (argv: string[]) => clientConfigFrom(parseCommandLine(argv, options, { ...NO_ENV, minPort: 1 }));

  void it('still have their values checked when the option they need is missing', () => {
    assertUsageError(() => config(['--reconnect-delay', '5-1']), ['--reconnect-delay', "'5-1'"]);
    assertUsageError(() => config(['--reconnect-attempts', 'many']), ['--reconnect-attempts', "'many'"]);
  });

  void it('are refused without it, naming both', () => {
    assertUsageError(() => config(['--reconnect-delay', '1-5']), ['--reconnect-delay', 'need --reconnect']);
    assertUsageError(() => config(['--reconnect-attempts', '3']), ['--reconnect-attempts', 'need --reconnect']);
    assert.equal(config(['--reconnect', '--reconnect-attempts', '3']).reconnect?.attempts, 3);
  });
});

void describe('the client TLS options', () => {
  const line = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseCommandLine(argv, CLIENT_TLS_OPTIONS, { envPrefix: 'MULTI_SOCKET_CLIENT_', env, minPort: 1 });
  const config = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
    const parsed = line(argv, env);
    return namingSources(parsed, () => clientConfigFrom(parsed));
  };

  void it('plain TCP without any of them; --tls alone verifies against the system store', () => {
    assert.equal(config([]).tls, undefined);
    assert.deepEqual(config(['--tls']).tls, { ca: undefined, cert: undefined, key: undefined, servername: undefined, insecure: false });
  });

  void it('--tls-servername and --insecure imply --tls, from argv or the environment', () => {
    assert.equal(config(['--tls-servername', 'stream.example']).tls?.servername, 'stream.example');
    assert.equal(config([], { MULTI_SOCKET_CLIENT_INSECURE: '1' }).tls?.insecure, true);
  });

  void it('are refused beside MULTI_SOCKET_CLIENT_TLS=0, naming the variable', () => {
    assertUsageError(() => config(['--insecure'], { MULTI_SOCKET_CLIENT_TLS: '0' }), ['--insecure needs TLS', 'MULTI_SOCKET_CLIENT_TLS is off']);
  });

  void it('refuse an empty --tls-servername', () => {
    assertUsageError(() => config(['--tls-servername', '']), ['--tls-servername']);
  });
});
