import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { envName, namingSources, parseCommandLine, stringValue, withVariables } from '../../src/cli/command-line.js';
import { CLIENT_ENV_PREFIX, CLIENT_USAGE } from '../../src/cli/client-command.js';
import { SERVER_ENV_PREFIX, SERVER_OPTIONS, SERVER_USAGE, serverConfigFrom } from '../../src/cli/server-command.js';
import { UsageError } from '../../src/cli/values.js';

/** No variables: what these tests parse is argv alone, whatever the environment they run in. */
const NO_ENV = { envPrefix: 'MULTI_SOCKET_', env: {} } as const;

const OPTIONS = {
  chars: { type: 'string' },
  'max-header': { type: 'string' },
} as const;

function usageErrorOf(argv: readonly string[]): string {
  let caught: unknown;
  try {
    parseCommandLine(argv, OPTIONS, NO_ENV);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof UsageError, `expected a UsageError for ${JSON.stringify(argv)}, got ${String(caught)}`);
  assert.ok(!caught.message.includes('\n'), `one line: ${JSON.stringify(caught.message)}`);
  return caught.message;
}

void describe('parseCommandLine', () => {
  void it("defaults to the original's localhost 65432 user", () => {
    const line = parseCommandLine([], OPTIONS, NO_ENV);
    assert.equal(line.host, 'localhost');
    assert.equal(line.port, 65432);
    assert.equal(line.mode, 'user');
    assert.equal(line.help, false);
    assert.equal(line.version, false);
  });

  void it('takes host, port and mode in that order', () => {
    const line = parseCommandLine(['127.0.0.1', '0', 'json'], OPTIONS, NO_ENV);
    assert.equal(line.host, '127.0.0.1');
    assert.equal(line.port, 0);
    assert.equal(line.mode, 'json');
  });

  void it('takes the positionals alone, the rest defaulted', () => {
    const line = parseCommandLine(['::1'], OPTIONS, NO_ENV);
    assert.equal(line.host, '::1');
    assert.equal(line.port, 65432);
    assert.equal(line.mode, 'user');
  });

  void it('keeps option values, in both --name value and --name=value forms', () => {
    const line = parseCommandLine(['localhost', '--chars', '1-3', '--max-header=64'], OPTIONS, NO_ENV);
    assert.equal(stringValue(line, 'chars'), '1-3');
    assert.equal(stringValue(line, 'max-header'), '64');
    assert.equal(stringValue(line, 'absent'), undefined);
  });

  void it('sees --help and -h, --version and -V, even with a bad positional', () => {
    assert.equal(parseCommandLine(['--help'], OPTIONS, NO_ENV).help, true);
    assert.equal(parseCommandLine(['-h'], OPTIONS, NO_ENV).help, true);
    assert.equal(parseCommandLine(['--version'], OPTIONS, NO_ENV).version, true);
    assert.equal(parseCommandLine(['-V'], OPTIONS, NO_ENV).version, true);
    assert.equal(parseCommandLine(['host', 'not-a-port', '--help'], OPTIONS, NO_ENV).help, true);
  });

  void it('rejects a fourth positional and names it', () => {
    const message = usageErrorOf(['localhost', '65432', 'user', 'extra']);
    assert.match(message, /'extra'/);
  });

  void it('takes a bare number first for a port put before the host, and says so', () => {
    assert.match(usageErrorOf(['8000']), /^invalid host '8000': that looks like a port; the host comes first, e\.g\. localhost 8000$/);
  });

  void it('takes port 0 where a program listens, and refuses it where a program connects', () => {
    assert.equal(parseCommandLine(['localhost', '0'], OPTIONS, NO_ENV).port, 0);
    let caught: unknown;
    try {
      parseCommandLine(['localhost', '0'], OPTIONS, { ...NO_ENV, minPort: 1 });
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

void describe('options from the environment', () => {
  const env = (vars: NodeJS.ProcessEnv) => ({ envPrefix: 'MULTI_SOCKET_', env: vars }) as const;
  const server = (argv: string[], vars: NodeJS.ProcessEnv) => serverConfigFrom(parseCommandLine(argv, SERVER_OPTIONS, env(vars)));

  void it('takes what argv leaves out from MULTI_SOCKET_<OPTION>; argv wins; the defaults come last', () => {
    assert.deepEqual(server([], { MULTI_SOCKET_INTERVAL: '0.5-2' }).interval, { min: 0.5, max: 2 });
    assert.deepEqual(server(['--interval', '1-3'], { MULTI_SOCKET_INTERVAL: '0.5-2' }).interval, { min: 1, max: 3 });
    assert.deepEqual(server([], {}).interval, { min: 1, max: 5 });
    assert.equal(server([], { MULTI_SOCKET_MAX_CLIENTS: '7' }).maxClients, 7);
  });

  void it('takes the host, port and mode from MULTI_SOCKET_HOST, _PORT and _MODE', () => {
    const line = parseCommandLine([], SERVER_OPTIONS, env({ MULTI_SOCKET_HOST: '::1', MULTI_SOCKET_PORT: '8000', MULTI_SOCKET_MODE: 'json' }));
    assert.deepEqual([line.host, line.port, line.mode], ['::1', 8000, 'json']);
    assert.equal(parseCommandLine(['127.0.0.1'], SERVER_OPTIONS, env({ MULTI_SOCKET_HOST: '::1' })).host, '127.0.0.1');
  });

  void it('reads a boolean as 1/true/yes/on or 0/false/no/off', () => {
    const options = { reconnect: { type: 'boolean' } } as const;
    const value = (text: string) => parseCommandLine([], options, env({ MULTI_SOCKET_RECONNECT: text })).values['reconnect'];
    assert.equal(value('1'), true);
    assert.equal(value('Yes'), true);
    assert.equal(value('off'), false);
    assert.throws(() => value('maybe'), (error: Error) => error instanceof UsageError && error.message === "invalid MULTI_SOCKET_RECONNECT 'maybe': expected 1, true, yes or on, or 0, false, no or off");
  });

  void it('names the variable, not the option, for a bad value that came from it', () => {
    const line = parseCommandLine([], SERVER_OPTIONS, env({ MULTI_SOCKET_INTERVAL: '5-1' }));
    assert.throws(
      () => namingSources(line, () => serverConfigFrom(line)),
      (error: Error) => error instanceof UsageError && error.message.startsWith("invalid MULTI_SOCKET_INTERVAL '5-1'") && !error.message.includes('--interval'),
    );
    assert.throws(() => parseCommandLine([], SERVER_OPTIONS, env({ MULTI_SOCKET_PORT: 'abc' })), (error: Error) => error instanceof UsageError && error.message.startsWith('MULTI_SOCKET_PORT: invalid port'));
  });

  void it('shows every argument and option with its variable in --help', () => {
    const help = withVariables(SERVER_USAGE, SERVER_ENV_PREFIX);
    for (const name of ['host', 'port', 'mode', ...Object.keys(SERVER_OPTIONS)]) assert.ok(help.includes(`env: ${envName(SERVER_ENV_PREFIX, name)}`), name);
    assert.ok(!help.includes('MULTI_SOCKET_HELP'));
    const client = withVariables(CLIENT_USAGE, CLIENT_ENV_PREFIX);
    assert.ok(client.includes('env: MULTI_SOCKET_CLIENT_RECONNECT_DELAY'), client);
  });
});
