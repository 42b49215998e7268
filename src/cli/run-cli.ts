import { constants } from 'node:os';
import { UsageError } from './values.js';

/** A command-line program: argv in, exit code out. */
export interface Command {
  readonly name: string;
  readonly usage: string;
  main(argv: readonly string[]): Promise<number>;
}

/** The conventional exit code of a process ended by a signal: 128 + its number. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + constants.signals[signal];
}

/**
 * The one place that ends the process. A bad command line prints one line and the usage to
 * stderr and exits with 2; any other failure prints one line (no stack trace) and exits with 1.
 * Output is flushed before exiting, so nothing printed is ever cut short.
 */
export async function runCli(command: Command, argv: readonly string[]): Promise<never> {
  let code: number;
  try {
    code = await command.main(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${command.name}: ${error.message}\n\n${command.usage}\n`);
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
