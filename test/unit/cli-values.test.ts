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

  void it('rejects a space, which would make a chunk look like a statistics answer', () => {
    assertUsageError(() => parseAlphabet('ab c'), ['--alphabet']);
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
