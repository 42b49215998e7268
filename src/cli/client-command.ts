import { closeSync } from 'node:fs';
import { isatty } from 'node:tty';
import { runClient } from '../client/client.js';
import { DEFAULT_CLIENT_CONFIG as D, DEFAULT_RECONNECT as R, type ClientConfig } from '../client/config.js';
import { clientLine } from '../output/client-lines.js';
import { DEFAULT_MODE } from '../output/mode.js';
import { FlowPrinter } from '../output/printer.js';
import { MAX_CHUNK_LENGTH } from '../protocol/defaults.js';
import { BYTE_ORDER, MessageType, PREFIX_LENGTH } from '../protocol/frame.js';
import { serverFrameHead, statisticsText } from '../protocol/messages.js';
import { CLIENT_TLS_OPTIONS, CLIENT_TLS_USAGE, clientTlsFrom } from './client-tls-options.js';
import { namingSources, parseCommandLine, printHelpOrVersion, stringValue, type CommandLine } from './command-line.js';
import { signalExitCode, type Command } from './run-cli.js';
import { MAX_INTERVAL_SECONDS, parseInteger, parseRange, parseSeconds, UsageError } from './values.js';

/**
 * The smallest `--max-header` that takes every header our server can send: the longest message
 * type with the largest content length and the longest wait (whole milliseconds below the
 * longest interval), as a little-endian machine writes it ("little" is the longer byteorder).
 * The original's headers are shorter (whole-second waits, no message type).
 */
export const MIN_SERVER_HEADER =
  Math.max(...Object.values(MessageType).map((type) => serverFrameHead(type, MAX_CHUNK_LENGTH, MAX_INTERVAL_SECONDS - 0.001).length)) -
  PREFIX_LENGTH +
  'little'.length -
  BYTE_ORDER.length;

/** The smallest `--max-content` that takes a statistics answer of any count a server can keep exactly. */
export const MIN_SERVER_CONTENT = statisticsText(Number.MAX_SAFE_INTEGER).length;

/** The client's options in the environment, apart from the server's: `MULTI_SOCKET_CLIENT_RECONNECT=1`. */
export const CLIENT_ENV_PREFIX = 'MULTI_SOCKET_CLIENT_';

export const CLIENT_USAGE = `usage: multi-socket-client <host> <port> <mode> [options]

Connects to a multi-socket server, shows every chunk as it arrives, and reacts to single
key presses: 's' asks for statistics, 'q' (or Ctrl-D) quits, Ctrl-C quits with code 130.
With stdin not a terminal, the same letters are read from it: printf 'ss' | multi-socket-client

arguments (optional, in this order):
  host                       server address (default: ${D.host})
  port                       server port, 1 to 65535 (default: ${D.port})
  mode                       user, debug, quiet or json (default: ${DEFAULT_MODE})

options:
  --max-header BYTES         largest header accepted from the server, at least ${MIN_SERVER_HEADER}, the
                             longest a server sends (default: ${D.maxHeaderLength})
  --max-content BYTES        largest content accepted from the server, at least ${MIN_SERVER_CONTENT}, the
                             longest statistics answer (default: ${D.maxContentLength})
  --reconnect                after a lost connection, connect again, waiting longer after
                             each failure (exponential backoff with jitter)
  --reconnect-delay MIN-MAX  seconds: the first wait's step, and the longest any wait may be
                             (default: ${R.initialMs / 1000}-${R.maxMs / 1000})
  --reconnect-attempts N     failed attempts in a row before giving up, 0 for no limit
                             (default: ${R.attempts})
  --idle-timeout SECONDS     no frame from the server for this long: say so and end (or
                             reconnect, with --reconnect) (default: wait for ever)
  --exit-on-eof              when the keys' input ends (a script's), quit after the answers
                             already asked for
${CLIENT_TLS_USAGE}
  -h, --help                 show this help
  -V, --version              show the version

Every argument and option can also be given as the environment variable shown beside it
(booleans as 1 or 0); the command line wins over the environment.

exit status: 0 after 'q', Ctrl-D or a server shutdown; 1 when the connection fails or is
lost, or the server's TLS certificate is not trusted (never retried, even with --reconnect); 2 for a bad command line; 130 after Ctrl-C; 129, 130, 143 after SIGHUP (a terminal
that hangs up), SIGINT, SIGTERM.`;

const OPTIONS = {
  'max-header': { type: 'string' },
  'max-content': { type: 'string' },
  reconnect: { type: 'boolean' },
  'reconnect-delay': { type: 'string' },
  'reconnect-attempts': { type: 'string' },
  'idle-timeout': { type: 'string' },
  'exit-on-eof': { type: 'boolean' },
  ...CLIENT_TLS_OPTIONS,
} as const;

export function clientConfigFrom(line: CommandLine): ClientConfig {
  const header = stringValue(line, 'max-header');
  const content = stringValue(line, 'max-content');
  const delay = stringValue(line, 'reconnect-delay');
  const attempts = stringValue(line, 'reconnect-attempts');
  // Values first: a bad one is named even when the option it needs is missing too.
  const steps = delay === undefined ? undefined : parseRange('--reconnect-delay', delay, false, { min: 0.001, max: 3600 });
  const tries = attempts === undefined ? R.attempts : parseInteger('--reconnect-attempts', attempts, 0, 1_000_000);
  if (line.values['reconnect'] !== true && (delay !== undefined || attempts !== undefined)) {
    throw new UsageError('--reconnect-delay and --reconnect-attempts need --reconnect');
  }
  return {
    host: line.host,
    port: line.port,
    maxHeaderLength:
      header === undefined
        ? D.maxHeaderLength
        : parseInteger('--max-header', header, MIN_SERVER_HEADER, 0xffff, `a server's headers go up to ${MIN_SERVER_HEADER} bytes`),
    maxContentLength:
      content === undefined
        ? D.maxContentLength
        : parseInteger('--max-content', content, MIN_SERVER_CONTENT, 16 * MAX_CHUNK_LENGTH, `a statistics answer can be ${MIN_SERVER_CONTENT} bytes`),
    reconnect:
      line.values['reconnect'] === true
        ? {
            initialMs: steps === undefined ? R.initialMs : Math.round(steps.min * 1000),
            maxMs: steps === undefined ? R.maxMs : Math.round(steps.max * 1000),
            attempts: tries,
          }
        : undefined,
    idleTimeoutMs: optionalSeconds(line, 'idle-timeout'),
    exitOnEof: line.values['exit-on-eof'] === true,
    tls: clientTlsFrom(line),
  };
}

function optionalSeconds(line: CommandLine, name: string): number | undefined {
  const text = stringValue(line, name);
  return text === undefined ? undefined : parseSeconds(`--${name}`, text, 1, 24 * 3_600_000);
}

/** Signals that end the client as its user would expect: the terminal restored, the connection closed. */
const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
/** After a signal, how long output still being taken may take before the rest is dropped. */
const SIGNAL_DRAIN_MS = 500;

export const clientCommand: Command = {
  name: 'multi-socket-client',
  usage: CLIENT_USAGE,
  async main(argv) {
    const line = parseCommandLine(argv, OPTIONS, { minPort: 1, envPrefix: CLIENT_ENV_PREFIX });
    if (line.help || line.version) return printHelpOrVersion(line, CLIENT_USAGE);
    const config = namingSources(line, () => clientConfigFrom(line));
    const startedOnTerminal = [0, 1, 2].map((fd) => isatty(fd));
    // stderr can fail as stdout does (a terminal that hung up): that is no reason to crash.
    process.stderr.on('error', () => undefined);
    let signalled = false;
    const printer = new FlowPrinter(FlowPrinter.stdout(), (error) => client.stop(brokenOutputExit(error)));
    const client = runClient(config, { stdin: process.stdin, emit: printer.sink(clientLine, line.mode), output: printer });
    for (const signal of STOP_SIGNALS) {
      process.on(signal, () => {
        signalled = true;
        client.stop(signalExitCode(signal));
      });
    }
    const code = await client.done;
    await printer.drain(signalled ? SIGNAL_DRAIN_MS : undefined);
    releaseHungUpTerminal(startedOnTerminal);
    return code;
  },
};

/**
 * A reader that stops reading (`| head -3`) ends the session quietly; a terminal that hangs up
 * ends it as SIGHUP would; any other failure to write is a failure.
 */
function brokenOutputExit(error: NodeJS.ErrnoException): number {
  if (error.code === 'EPIPE') return 0;
  if (error.code === 'EIO') return signalExitCode('SIGHUP');
  process.stderr.write(`multi-socket-client: error: cannot write to stdout: ${error.message}\n`);
  return 1;
}

/**
 * Node restores the settings of a terminal it started on as the process exits, and aborts
 * (SIGABRT, a core dump) when it cannot, as with a terminal that hung up. Such a terminal
 * answers no more (isatty() fails with EIO); its descriptors are closed, so that Node leaves
 * them alone and the exit code is ours.
 */
function releaseHungUpTerminal(startedOnTerminal: readonly boolean[]): void {
  startedOnTerminal.forEach((wasTerminal, fd) => {
    if (wasTerminal && !isatty(fd)) closeSync(fd);
  });
}
