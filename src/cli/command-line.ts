import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DEFAULT_HOST, DEFAULT_PORT } from '../protocol/defaults.js';
import { DEFAULT_MODE, type Mode } from '../output/mode.js';
import { parseHost, parseMode, parsePort, UsageError } from './values.js';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** What both programs take: `[host] [port] [mode]`, then options. */
export interface CommandLine {
  readonly host: string;
  readonly port: number;
  readonly mode: Mode;
  readonly help: boolean;
  readonly version: boolean;
  readonly values: Readonly<Record<string, unknown>>;
}

const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const satisfies OptionsConfig;

/**
 * Parses argv with Node's own strict parser (no dependency, unknown options rejected) and turns
 * its errors into one short line each. `minPort` is 1 for a program that connects.
 */
export function parseCommandLine(argv: readonly string[], options: OptionsConfig, minPort: 0 | 1 = 0): CommandLine {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(usageMessage(error as NodeJS.ErrnoException));
  }
  const { values, positionals } = parsed;
  if (values['help'] === true || values['version'] === true) {
    return { host: DEFAULT_HOST, port: DEFAULT_PORT, mode: DEFAULT_MODE, help: values['help'] === true, version: values['version'] === true, values };
  }
  if (positionals.length > 3) throw new UsageError(`unexpected argument '${positionals[3] ?? ''}': at most <host> <port> <mode>`);
  const [host, port, mode] = positionals;
  return {
    host: host === undefined ? DEFAULT_HOST : parseHost(host),
    port: port === undefined ? DEFAULT_PORT : parsePort(port, minPort),
    mode: mode === undefined ? DEFAULT_MODE : parseMode(mode),
    help: false,
    version: false,
    values,
  };
}

function usageMessage(error: NodeJS.ErrnoException): string {
  // Node names an option as '--chars' or '-h, --help'; the long name is the one users know.
  const option = /'(?:-\w, )?(--?[\w-]+)/.exec(error.message)?.[1] ?? '';
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option '${option}'`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (error.message.includes('does not take an argument')) return `option '${option}' takes no value`;
      // Followed by a word that starts with '-', which Node takes for another option.
      if (error.message.includes('ambiguous')) return `option '${option}' needs a value (for one that starts with '-', write ${option}=VALUE)`;
      return `option '${option}' needs a value`;
    default:
      return error.message;
  }
}

/** A string option's value, when given. */
export function stringValue(line: CommandLine, name: string): string | undefined {
  const value = line.values[name];
  return typeof value === 'string' ? value : undefined;
}

/** `--help` prints the usage, `--version` the package's version; both on stdout, exit 0. */
export function printHelpOrVersion(line: CommandLine, usage: string): number {
  process.stdout.write(line.help ? `${usage}\n` : `${packageVersion()}\n`);
  return 0;
}

function packageVersion(): string {
  // The nearest package.json above this file: the same code runs from dist/src/cli/ (tests)
  // and from the bundle in dist/bin/ (the programs), installed or not.
  for (let dir = new URL('.', import.meta.url); ; dir = new URL('..', dir)) {
    try {
      const manifest = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'multi-socket-apps' && manifest.version !== undefined) return manifest.version;
    } catch {
      // Not here: look one folder up.
    }
    if (dir.pathname === '/') return 'unknown';
  }
}
