import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCommandLine, stringValue } from '../../src/cli/command-line.js';
import { UsageError } from '../../src/cli/values.js';

const OPTIONS = {
  chars: { type: 'string' },
  'max-header': { type: 'string' },
} as const;

function usageErrorOf(argv: readonly string[]): string {
  let caught: unknown;
  try {
    parseCommandLine(argv, OPTIONS);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof UsageError, `expected a UsageError for ${JSON.stringify(argv)}, got ${String(caught)}`);
  assert.ok(!caught.message.includes('\n'), `one line: ${JSON.stringify(caught.message)}`);
  return caught.message;
}

void describe('parseCommandLine', () => {
  void it("defaults to the original's localhost 65432 user", () => {
    const line = parseCommandLine([], OPTIONS);
    assert.equal(line.host, 'localhost');
    assert.equal(line.port, 65432);
    assert.equal(line.mode, 'user');
    assert.equal(line.help, false);
    assert.equal(line.version, false);
  });

  void it('takes host, port and mode in that order', () => {
    const line = parseCommandLine(['127.0.0.1', '0', 'json'], OPTIONS);
    assert.equal(line.host, '127.0.0.1');
    assert.equal(line.port, 0);
    assert.equal(line.mode, 'json');
  });

  void it('takes the positionals alone, the rest defaulted', () => {
    const line = parseCommandLine(['::1'], OPTIONS);
    assert.equal(line.host, '::1');
    assert.equal(line.port, 65432);
    assert.equal(line.mode, 'user');
  });

  void it('keeps option values, in both --name value and --name=value forms', () => {
    const line = parseCommandLine(['localhost', '--chars', '1-3', '--max-header=64'], OPTIONS);
    assert.equal(stringValue(line, 'chars'), '1-3');
    assert.equal(stringValue(line, 'max-header'), '64');
    assert.equal(stringValue(line, 'absent'), undefined);
  });

  void it('sees --help and -h, --version and -V, even with a bad positional', () => {
    assert.equal(parseCommandLine(['--help'], OPTIONS).help, true);
    assert.equal(parseCommandLine(['-h'], OPTIONS).help, true);
    assert.equal(parseCommandLine(['--version'], OPTIONS).version, true);
    assert.equal(parseCommandLine(['-V'], OPTIONS).version, true);
    assert.equal(parseCommandLine(['host', 'not-a-port', '--help'], OPTIONS).help, true);
  });

  void it('rejects a fourth positional and names it', () => {
    const message = usageErrorOf(['localhost', '65432', 'user', 'extra']);
    assert.match(message, /'extra'/);
  });

  void it('takes a bare number first for a port put before the host, and says so', () => {
    assert.match(usageErrorOf(['8000']), /^invalid host '8000': that looks like a port; the host comes first, e\.g\. localhost 8000$/);
  });

  void it('takes port 0 where a program listens, and refuses it where a program connects', () => {
    assert.equal(parseCommandLine(['localhost', '0'], OPTIONS).port, 0);
    let caught: unknown;
    try {
      parseCommandLine(['localhost', '0'], OPTIONS, 1);
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof UsageError);
    assert.match(caught.message, /port '0'.*from 1 to 65535/);
  });

  void it('rejects a bad port and a bad mode given as positionals', () => {
    assert.match(usageErrorOf(['localhost', '70000']), /port '70000'/);
    assert.match(usageErrorOf(['localhost', '65432', 'loud']), /mode 'loud'/);
  });

  void it('rejects an unknown option in one short line that names it', () => {
    assert.equal(usageErrorOf(['--bogus']), "unknown option '--bogus'");
    assert.equal(usageErrorOf(['--bogus=1']), "unknown option '--bogus'");
    assert.equal(usageErrorOf(['-x']), "unknown option '-x'");
  });

  void it('rejects an option missing its value and names it', () => {
    assert.equal(usageErrorOf(['--chars']), "option '--chars' needs a value");
  });

  void it('says an option needs a value when the next word is another option', () => {
    // Node calls these "ambiguous"; for the user, --chars has no usable value.
    for (const argv of [['--chars', '--help'], ['--chars', '-1']]) {
      const message = usageErrorOf(argv);
      assert.match(message, /'--chars'/, JSON.stringify(argv));
      assert.doesNotMatch(message, /takes no value/, `${JSON.stringify(argv)}: ${message}`);
    }
  });

  void it('names a flag given a value by its long name', () => {
    assert.match(usageErrorOf(['--help=yes']), /'--help'/);
    assert.match(usageErrorOf(['--version=1']), /'--version'/);
  });
});
