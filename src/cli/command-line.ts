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
  /** The environment variables that gave a value, by option name (`chars` -> `MULTI_SOCKET_CHARS`). */
  readonly fromEnvironment: ReadonlyMap<string, string>;
  /** The prefix of this program's variables, for --help. */
  readonly envPrefix: string;
}

export interface CommandLineRules {
  /** 1 for a program that connects: port 0 names no server. */
  readonly minPort?: 0 | 1;
  /** Every option can also be given as PREFIX + its name in capitals (`MULTI_SOCKET_CHARS`). */
  readonly envPrefix: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** `chars` -> `MULTI_SOCKET_CHARS`, `max-header` -> `MULTI_SOCKET_MAX_HEADER`. */
export function envName(prefix: string, option: string): string {
  return `${prefix}${option.toUpperCase().replaceAll('-', '_')}`;
}

const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on']);
const FALSE_WORDS = new Set(['0', 'false', 'no', 'off', '']);

const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const satisfies OptionsConfig;

/**
 * Parses argv with Node's own strict parser (no dependency, unknown options rejected) and turns
 * its errors into one short line each. What argv leaves out is taken from the environment, so a
 * service manager can configure the program (the command line wins over the environment, the
 * environment over the defaults).
 */
export function parseCommandLine(argv: readonly string[], options: OptionsConfig, rules: CommandLineRules): CommandLine {
  const { minPort = 0, envPrefix, env = process.env } = rules;
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(usageMessage(error as NodeJS.ErrnoException));
  }
  const { positionals } = parsed;
  const values: Record<string, unknown> = { ...parsed.values };
  const fromEnvironment = new Map<string, string>();
  if (values['help'] === true || values['version'] === true) {
    return { host: DEFAULT_HOST, port: DEFAULT_PORT, mode: DEFAULT_MODE, help: values['help'] === true, version: values['version'] === true, values, fromEnvironment, envPrefix };
  }
  for (const [name, option] of Object.entries(options)) {
    const variable = envName(envPrefix, name);
    const text = env[variable];
    if (values[name] !== undefined || text === undefined) continue;
    values[name] = option.type === 'boolean' ? envBoolean(variable, text) : text;
    fromEnvironment.set(name, variable);
  }
  if (positionals.length > 3) throw new UsageError(`unexpected argument '${positionals[3] ?? ''}': at most <host> <port> <mode>`);
  /** A positional argument from argv, else from the environment, else its default; a bad one names its source. */
  const positional = <T>(index: number, name: string, parse: (text: string) => T, fallback: T): T => {
    const given = positionals[index];
    if (given !== undefined) return parse(given);
    const variable = envName(envPrefix, name);
    const text = env[variable];
    if (text === undefined) return fallback;
    try {
      return parse(text);
    } catch (error) {
      throw error instanceof UsageError ? new UsageError(`${variable}: ${error.message}`) : error;
    }
  };
  return {
    host: positional(0, 'host', parseHost, DEFAULT_HOST),
    port: positional(1, 'port', (text) => parsePort(text, minPort), DEFAULT_PORT),
    mode: positional(2, 'mode', parseMode, DEFAULT_MODE),
    help: false,
    version: false,
    values,
    fromEnvironment,
    envPrefix,
  };
}

function envBoolean(variable: string, text: string): boolean {
  const word = text.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  throw new UsageError(`invalid ${variable} '${text}': expected 1, true, yes or on, or 0, false, no or off`);
}

/**
 * Builds a configuration from `line`; a bad value that came from the environment is named by its
 * variable rather than its option. One place for every parser's messages: each names the option
 * as `--name`, and here that becomes `MULTI_SOCKET_NAME` where the environment gave the value.
 */
export function namingSources<T>(line: CommandLine, build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (!(error instanceof UsageError) || line.fromEnvironment.size === 0) throw error;
    let message = error.message;
    for (const [name, variable] of line.fromEnvironment) message = message.replace(new RegExp(`--${name}(?![\\w-])`, 'g'), variable);
    throw new UsageError(message);
  }
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
  process.stdout.write(line.help ? `${withVariables(usage, line.envPrefix)}\n` : `${packageVersion()}\n`);
  return 0;
}

/** The column where the usage texts' descriptions start. */
const DESCRIPTION_COLUMN = 29;

/**
 * The usage with each argument's and option's environment variable beside it, on the last line
 * of its description: generated here from the names, so no variable can be left out.
 */
export function withVariables(usage: string, prefix: string): string {
  const lines = usage.split('\n');
  const out: string[] = [];
  let pending: string | undefined;
  const flush = (): void => {
    if (pending !== undefined) out.push(`${' '.repeat(DESCRIPTION_COLUMN)}env: ${pending}`);
    pending = undefined;
  };
  for (const text of lines) {
    const item = /^ {2}(?:-\w, )?--([a-z][\w-]*)|^ {2}(host|port|mode) /.exec(text);
    // A new item, a blank line or a heading ends the description before it.
    if (item !== null || !text.startsWith(' '.repeat(DESCRIPTION_COLUMN))) flush();
    out.push(text);
    const name = item?.[1] ?? item?.[2];
    if (name !== undefined && name !== 'help' && name !== 'version') pending = envName(prefix, name);
  }
  flush();
  return out.join('\n');
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
