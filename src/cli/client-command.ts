import { runClient } from '../client/client.js';
import { DEFAULT_CLIENT_CONFIG as D, type ClientConfig } from '../client/config.js';
import { clientLine } from '../output/client-lines.js';
import { Printer } from '../output/printer.js';
import { MAX_CHUNK_LENGTH } from '../server/config.js';
import { parseCommandLine, printHelpOrVersion, stringValue, type CommandLine } from './command-line.js';
import { signalExitCode, type Command } from './run-cli.js';
import { parseInteger } from './values.js';

export const CLIENT_USAGE = `usage: multi-socket-client <host> <port> <mode> [options]

Connects to a multi-socket server, shows every chunk as it arrives, and reacts to single
key presses: 's' asks for statistics, 'q' (or Ctrl-D) quits, Ctrl-C quits with code 130.
With stdin not a terminal, the same letters are read from it: printf 'ss' | multi-socket-client

arguments (optional, in this order):
  host                       server address (default: ${D.host})
  port                       server port (default: ${D.port})
  mode                       user, debug, quiet or json (default: ${D.mode})

options:
  --max-header BYTES         largest header accepted from the server (default: ${D.maxHeaderLength})
  --max-content BYTES        largest content accepted from the server (default: ${D.maxContentLength})
  -h, --help                 show this help
  -V, --version              show the version

exit status: 0 after 'q', Ctrl-D or a server shutdown; 1 when the connection fails or is
lost; 2 for a bad command line; 130 after Ctrl-C.`;

const OPTIONS = {
  'max-header': { type: 'string' },
  'max-content': { type: 'string' },
} as const;

export function clientConfigFrom(line: CommandLine): ClientConfig {
  const header = stringValue(line, 'max-header');
  const content = stringValue(line, 'max-content');
  return {
    host: line.host,
    port: line.port,
    mode: line.mode,
    maxHeaderLength: header === undefined ? D.maxHeaderLength : parseInteger('--max-header', header, 16, 0xffff),
    maxContentLength: content === undefined ? D.maxContentLength : parseInteger('--max-content', content, 1, 16 * MAX_CHUNK_LENGTH),
  };
}

/** Signals that end the client as its user would expect: the terminal restored, the connection closed. */
const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export const clientCommand: Command = {
  name: 'multi-socket-client',
  usage: CLIENT_USAGE,
  async main(argv) {
    const line = parseCommandLine(argv, OPTIONS);
    if (line.help || line.version) return printHelpOrVersion(line, CLIENT_USAGE);
    const config = clientConfigFrom(line);
    // A reader that stops reading (`| head -3`) ends the session quietly.
    const printer = new Printer(process.stdout, () => client.stop(0));
    const client = runClient(config, {
      stdin: process.stdin,
      emit: (event) => {
        const text = clientLine(config.mode, event);
        if (text !== undefined) printer.line(text);
      },
    });
    for (const signal of STOP_SIGNALS) process.on(signal, () => client.stop(signalExitCode(signal)));
    const code = await client.done;
    await printer.drain();
    return code;
  },
};
