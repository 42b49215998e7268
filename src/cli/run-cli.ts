import { constants } from 'node:os';
import { UsageError } from './values.js';

/** A command-line program: argv in, exit code out. */
export interface Command {
  readonly name: string;
  /** The whole help, for --help; its first line is the synopsis shown after a bad command line. */
  readonly usage: string;
  main(argv: readonly string[]): Promise<number>;
}

/** The conventional exit code of a process ended by a signal: 128 + its number. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + constants.signals[signal];
}

/**
 * The one place that ends the process. A bad command line prints one line and a short usage to
 * stderr and exits with 2; any other failure prints one line (no stack trace) and exits with 1.
 * Output is flushed before exiting, so nothing printed is ever cut short.
 */
export async function runCli(command: Command, argv: readonly string[]): Promise<never> {
  let code: number;
  try {
    code = await command.main(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${command.name}: ${error.message}\n\n${shortUsage(command)}\n`);
      code = 2;
    } else {
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`${command.name}: error: ${message}\n`);
      code = 1;
    }
  }
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(code);
}

/** The synopsis and where to read more: the whole help would bury the one line that matters. */
export function shortUsage(command: Command): string {
  return `${command.usage.split('\n', 1)[0] ?? ''}\nRun '${command.name} --help' for the arguments and options.`;
}
