/**
 * Runs the built command-line programs as child processes (piped, or in a real pseudo-terminal)
 * and lets a test await their output line by line.
 *
 * Every wait has a timeout as a safety net only: a test awaits the line, the exit or the close,
 * and when the safety net trips it fails with everything the process printed so far, so a
 * failure explains itself. Every process started here is tracked, and `killAll()` (called from
 * each suite's `after()`) SIGKILLs whatever is still running.
 */
import assert from 'node:assert/strict';
import { spawn as spawnChild, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { spawn as spawnPty, type IPty } from '@lydell/node-pty';
import { CLIENT_BIN, SERVER_ARGV, SERVER_BIN } from './programs.js';
import { withTimeout } from './wait.js';

/** How long any single wait may take before the test fails; generous for a busy 2-core machine. */
export const DEFAULT_TIMEOUT_MS = 8_000;

/** Server options that make a test's stream fast. */
export const FAST = ['--interval', '0.05-0.15'] as const;

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface WaitOptions {
  readonly timeoutMs?: number;
  /** Search every line seen so far, not only those after the previous match. */
  readonly fromStart?: boolean;
}

interface Waiter {
  readonly pattern: RegExp;
  readonly resolve: (match: RegExpMatchArray) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Collects a stream's text and splits it into lines. A cursor moves past each matched line, so
 * `await r.waitForLine(/a/); await r.waitForLine(/b/)` asserts that `b` comes after `a`.
 */
export class LineReader {
  readonly #name: string;
  readonly #describe: () => string;
  #text = '';
  #lines: string[] = [];
  #cursor = 0;
  #ended = false;
  readonly #waiters = new Set<Waiter>();

  constructor(name: string, describe: () => string) {
    this.#name = name;
    this.#describe = describe;
  }

  /** Everything received, as is. */
  get text(): string {
    return this.#text;
  }

  /** Complete lines received so far (a pseudo-terminal's `\r` removed). */
  get lines(): readonly string[] {
    return this.#lines;
  }

  /** Index of the first line the next `waitForLine` looks at. */
  get cursor(): number {
    return this.#cursor;
  }

  push(chunk: string): void {
    this.#text += chunk;
    const parts = this.#text.split('\n');
    parts.pop();
    this.#lines = parts.map((line) => line.replace(/\r+$/, ''));
    this.#check();
  }

  /** No more output will come: pending waits fail now rather than at their timeout. */
  end(): void {
    this.#ended = true;
    const rest = this.#text.slice(this.#text.lastIndexOf('\n') + 1);
    if (rest !== '') this.#lines = [...this.#lines, rest.replace(/\r+$/, '')];
    this.#check();
    for (const waiter of this.#waiters) this.#fail(waiter, 'the output ended');
  }

  /** Resolves with the match of the first line (after the cursor) that matches. */
  waitForLine(pattern: RegExp, { timeoutMs = DEFAULT_TIMEOUT_MS, fromStart = false }: WaitOptions = {}): Promise<RegExpMatchArray> {
    if (fromStart) this.#cursor = 0;
    const found = this.#find(pattern);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        pattern,
        resolve,
        reject,
        timer: setTimeout(() => this.#fail(waiter, `${timeoutMs} ms passed`), timeoutMs),
      };
      if (this.#ended) {
        this.#fail(waiter, 'the output ended');
        return;
      }
      this.#waiters.add(waiter);
    });
  }

  /** Lines after the cursor (what the next wait would look at). */
  linesSinceCursor(): readonly string[] {
    return this.#lines.slice(this.#cursor);
  }

  #find(pattern: RegExp): RegExpMatchArray | undefined {
    for (let i = this.#cursor; i < this.#lines.length; i++) {
      const match = (this.#lines[i] as string).match(pattern);
      if (match !== null) {
        this.#cursor = i + 1;
        return match;
      }
    }
    return undefined;
  }

  #check(): void {
    for (const waiter of this.#waiters) {
      const match = this.#find(waiter.pattern);
      if (match === undefined) continue;
      clearTimeout(waiter.timer);
      this.#waiters.delete(waiter);
      waiter.resolve(match);
    }
  }

  #fail(waiter: Waiter, why: string): void {
    clearTimeout(waiter.timer);
    this.#waiters.delete(waiter);
    waiter.reject(new Error(`no line matching ${String(waiter.pattern)} on ${this.#name} (${why})\n${this.#describe()}`));
  }
}

/** A running program: piped child or pseudo-terminal. */
export abstract class Proc {
  readonly name: string;
  /** stdout (for a pseudo-terminal: everything the terminal shows). */
  readonly out: LineReader;
  readonly exited: Promise<Exit>;
  #exit: Exit | undefined;
  #resolveExit: (exit: Exit) => void = () => undefined;

  protected constructor(name: string) {
    this.name = name;
    this.out = new LineReader(`${name} output`, () => this.describe());
    this.exited = new Promise((resolve) => (this.#resolveExit = resolve));
    live.add(this);
  }

  abstract readonly pid: number;
  abstract write(data: string): void;
  abstract kill(signal?: NodeJS.Signals): void;
  /** Everything printed so far, for failure messages. */
  abstract describe(): string;

  get exit(): Exit | undefined {
    return this.#exit;
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  waitForLine(pattern: RegExp, options?: WaitOptions): Promise<RegExpMatchArray> {
    return this.out.waitForLine(pattern, options);
  }

  /** Resolves with the exit; fails (and SIGKILLs the process) when the safety net trips. */
  async waitForExit(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Exit> {
    try {
      return await withTimeout(this.exited, timeoutMs, `${this.name} to exit`);
    } catch (error) {
      this.kill('SIGKILL');
      throw new Error(`${(error as Error).message}\n${this.describe()}`, { cause: error });
    }
  }

  protected settle(exit: Exit): void {
    if (this.#exit !== undefined) return;
    this.#exit = exit;
    live.delete(this);
    this.#resolveExit(exit);
  }
}

/** A child process with piped stdin, stdout and stderr. */
export class ChildProc extends Proc {
  readonly child: ChildProcess;
  readonly err: LineReader;
  readonly pid: number;

  constructor(name: string, command: string, args: readonly string[], stdin: 'pipe' | 'ignore' = 'pipe') {
    super(name);
    this.err = new LineReader(`${name} stderr`, () => this.describe());
    this.child = spawnChild(command, args, { stdio: [stdin, 'pipe', 'pipe'] });
    this.pid = this.child.pid ?? -1;
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.out.push(chunk));
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.err.push(chunk));
    // A child that exits before reading what we wrote makes our write fail with EPIPE: not a test failure.
    this.child.stdin?.on('error', () => undefined);
    this.child.on('error', (error) => {
      this.err.push(`spawn error: ${error.message}\n`);
      this.settle({ code: null, signal: null });
    });
    // 'close': the process has exited and its output streams are drained.
    this.child.on('close', (code, signal) => {
      this.settle({ code, signal });
      this.out.end();
      this.err.end();
    });
  }

  write(data: string): void {
    this.child.stdin?.write(data);
  }

  endInput(): void {
    this.child.stdin?.end();
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.running) this.child.kill(signal);
  }

  describe(): string {
    return `--- ${this.name} (pid ${this.pid}) stdout ---\n${this.out.text}--- stderr ---\n${this.err.text}--- exit: ${JSON.stringify(this.exit ?? 'running')}`;
  }
}

/**
 * Runs the program in a pseudo-terminal under a shell that, once the program has ended, prints
 * a marker with its exit status and keeps the terminal open until the marker has been read.
 *
 * Without it the end of the output could be lost. When the last process holding the terminal
 * exits, the terminal hangs up, and libuv (which reads it for node-pty) takes a hang-up seen
 * together with a read that did not fill its buffer as the end of the stream, without reading
 * again. A terminal hands its output over in pieces (at most 4 KiB a read, and the last writes
 * may still be on their way to the reading side when the writer has exited), so a program that
 * printed and exited at once could have its last lines dropped: node-pty then reported the exit,
 * the output ended without the line a test was waiting for (`closing connection`, `stopped`),
 * and the wait failed with "the output ended", its stack through node-pty's Terminal.emit. A
 * terminal keeps its output in order, so once the marker is read, everything the program printed
 * has been; and the terminal cannot hang up before, because the shell still holds it.
 *
 * `trap : INT HUP` keeps the shell alive through a Ctrl-C or a hangup meant for the program
 * (unlike an ignored signal, a caught one is not passed on to the program). The exit status is
 * the shell's `$?`: a program killed by a signal shows as 128 + its number. It is also written
 * to a file, for a test that closes the terminal: then no marker can come through it.
 */
const TERMINAL_SHELL = `mark=$1; status=$2; shift 2; trap : INT HUP; "$@"; code=$?; echo "$code" > "$status"; printf '%s%s\\n' "$mark" "$code"; read -r _`;

/** A process in a real pseudo-terminal: its stdin, stdout and stderr are the terminal. */
export class PtyProc extends Proc {
  readonly pty: IPty;
  /** The shell that runs the program (see TERMINAL_SHELL); it leads the terminal's process group. */
  readonly pid: number;
  readonly #mark = `exit-mark-${randomUUID()}:`;
  readonly #statusFile = join(tmpdir(), `${this.#mark.slice(0, -1)}.status`);
  readonly #markLine = new RegExp(`${this.#mark}(\\d+)\\r?\\n`);
  /** Output not yet passed on: it may be the start of the marker. */
  #held = '';

  constructor(name: string, command: string, args: readonly string[]) {
    super(name);
    this.pty = spawnPty('/bin/sh', ['-c', TERMINAL_SHELL, 'sh', this.#mark, this.#statusFile, command, ...args], {
      name: 'xterm',
      cols: 200,
      rows: 50,
      cwd: process.cwd(),
      env: process.env,
    });
    this.pid = this.pty.pid;
    this.pty.onData((data) => this.#onOutput(data));
    this.pty.onExit(({ exitCode, signal }) => {
      const status = readStatus(this.#statusFile);
      if (!this.running) return;
      this.out.push(this.#held);
      // The terminal was closed: the program's status is in the file. Else the shell itself was
      // killed, and the output may be cut short.
      if (status !== undefined) this.#finish({ code: status, signal: null });
      else this.#finish({ code: exitCode, signal: signal === undefined || signal === 0 ? null : signalName(signal) });
    });
  }

  #onOutput(data: string): void {
    if (!this.running) return;
    const text = this.#held + data;
    const marker = this.#markLine.exec(text);
    if (marker !== null) {
      this.out.push(text.slice(0, marker.index));
      this.#held = '';
      this.#finish({ code: Number(marker[1]), signal: null });
      // Lets the shell end.
      this.pty.write('\n');
      return;
    }
    const start = text.indexOf(this.#mark);
    const keep = start !== -1 ? text.length - start : markPrefixAtEnd(text, this.#mark);
    this.out.push(text.slice(0, text.length - keep));
    this.#held = text.slice(text.length - keep);
  }

  #finish(exit: Exit): void {
    if (!this.running) return;
    this.settle(exit);
    this.out.end();
  }

  /** Typed into the terminal: real key presses. */
  write(data: string): void {
    this.pty.write(data);
  }

  /**
   * Signals every process in the terminal: the shell, the program and the program's children
   * share the shell's process group.
   */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (!this.running) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      // Gone already.
    }
  }

  describe(): string {
    return `--- ${this.name} (pid ${this.pid}) terminal ---\n${this.out.text}${this.#held}--- exit: ${JSON.stringify(this.exit ?? 'running')}`;
  }
}

/** The exit status the terminal's shell wrote, if it did; the file is removed. */
function readStatus(file: string): number | undefined {
  try {
    const text = readFileSync(file, 'utf8');
    rmSync(file, { force: true });
    return /^\d+$/.test(text.trim()) ? Number(text.trim()) : undefined;
  } catch {
    return undefined;
  }
}

/** The length of the longest end of `text` that begins `mark`. */
function markPrefixAtEnd(text: string, mark: string): number {
  for (let length = Math.min(text.length, mark.length - 1); length > 0; length--) {
    if (text.endsWith(mark.slice(0, length))) return length;
  }
  return 0;
}

function signalName(signal: number): NodeJS.Signals | null {
  const names: Partial<Record<number, NodeJS.Signals>> = { 1: 'SIGHUP', 2: 'SIGINT', 9: 'SIGKILL', 13: 'SIGPIPE', 15: 'SIGTERM' };
  return names[signal] ?? null;
}

const live = new Set<Proc>();

/** SIGKILLs every process still running; call in `after()`. */
export async function killAll(): Promise<void> {
  const leftovers = [...live];
  for (const proc of leftovers) proc.kill('SIGKILL');
  // Bounded, and unref'd so that a process that will not die does not hold the test file open.
  await Promise.all(leftovers.map((proc) => Promise.race([proc.exited, delay(2_000, undefined, { ref: false })])));
}

/** Runs the built server with piped stdio (stdin `ignore` is /dev/null). */
export function spawnServer(args: readonly string[], stdin: 'pipe' | 'ignore' = 'pipe'): ChildProc {
  return new ChildProc('server', process.execPath, [...SERVER_ARGV, ...args], stdin);
}

/** Runs the built client with piped stdio (stdin `ignore` is /dev/null). */
export function spawnClient(args: readonly string[], stdin: 'pipe' | 'ignore' = 'pipe'): ChildProc {
  return new ChildProc('client', process.execPath, [CLIENT_BIN, ...args], stdin);
}

/** Runs the built client in a pseudo-terminal. */
export function spawnClientInPty(args: readonly string[]): PtyProc {
  return new PtyProc('client (pty)', process.execPath, [CLIENT_BIN, ...args]);
}

/** Runs a shell command line, piped (`$NODE`, `$CLIENT` and `$SERVER` are set for it). */
export function spawnShell(script: string, name = 'sh'): ChildProc {
  return new ChildProc(name, '/bin/sh', ['-c', withPrograms(script)]);
}

/** Runs a shell command line in a pseudo-terminal (`$NODE`, `$CLIENT` and `$SERVER` are set). */
export function spawnShellInPty(script: string, name = 'sh (pty)'): PtyProc {
  return new PtyProc(name, '/bin/sh', ['-c', withPrograms(script)]);
}

function withPrograms(script: string): string {
  return `export NODE=${quote(process.execPath)} CLIENT=${quote(CLIENT_BIN)} SERVER=${quote(SERVER_BIN)}; ${script}`;
}

/** Single-quotes a word for /bin/sh. */
export function quote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

export interface ListeningServer {
  readonly proc: ChildProc;
  readonly host: string;
  readonly port: number;
  /** `('127.0.0.1', 40811)`: how lines name the server. */
  readonly label: string;
}

/**
 * Starts the server on `host` port 0 and learns the real port from its
 * `listening on ('127.0.0.1', PORT)` line (the same line in user, debug and quiet modes; the
 * `listening` object in json mode).
 */
export async function spawnListeningServer(host = '127.0.0.1', mode = 'user', options: readonly string[] = FAST): Promise<ListeningServer> {
  const proc = spawnServer([host, '0', mode, ...options]);
  let port: number;
  if (mode === 'json') {
    const { input } = await proc.waitForLine(/"event":"listening"/);
    port = (JSON.parse(input ?? '') as { port: number }).port;
  } else {
    const match = await proc.waitForLine(/listening on \('[^']*', (\d+)\)/);
    port = Number(match[1]);
  }
  return { proc, host, port, label: `('${host}', ${port})` };
}

/**
 * Starts the server (127.0.0.1 port 0, quiet mode, then `args`), sends it SIGTERM the moment its
 * `listening on` line is read, and awaits a clean stop: `shutting down` with no client,
 * `stopped`, exit 0. A server that did not yet handle the signal when the line came out would
 * end by the signal instead.
 */
export async function stopAtListening(args: readonly string[] = []): Promise<ChildProc> {
  const proc = spawnServer(['127.0.0.1', '0', 'quiet', ...args]);
  await proc.waitForLine(/^listening on /);
  proc.kill('SIGTERM');
  await proc.waitForLine(/^shutting down: SIGTERM \(0 clients connected\)$/);
  await proc.waitForLine(/^stopped$/);
  assert.deepEqual(await proc.waitForExit(), { code: 0, signal: null }, proc.describe());
  return proc;
}

/** A port with nothing listening on it: bound, then closed again. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Whether this machine can bind `host` (e.g. `::1` where IPv6 is disabled). */
export async function canBind(host: string): Promise<boolean> {
  try {
    await freePort(host);
    return true;
  } catch {
    return false;
  }
}

/** A JavaScript stack frame line, as an uncaught error would print it. */
export const STACK_TRACE = /^\s+at .+[(:]\d+/m;

// ---- reading the programs' lines ------------------------------------------------------------

/** `got response: b'td3kk'` (a chunk) or `got response: b'Statistics: 8 symbols was delivered'`. */
export const GOT_RESPONSE = /^got response: b'([^'\\]*)'$/;
export const STATISTICS = /^Statistics: (\d+) symbols was delivered$/;

export interface StatisticsCheck {
  /** What the statistics answer says. */
  readonly reported: number;
  /** Symbols in the chunks printed since connecting or since the previous answer. */
  readonly counted: number;
  /** How many chunks those symbols came in. */
  readonly chunks: number;
}

/**
 * Walks a client's `got response` lines in order and pairs every statistics answer with the
 * symbols printed before it: PROTOCOL.md's invariant says the two are equal.
 */
export function statisticsChecks(lines: readonly string[]): StatisticsCheck[] {
  const checks: StatisticsCheck[] = [];
  let counted = 0;
  let chunks = 0;
  for (const line of lines) {
    const content = GOT_RESPONSE.exec(line)?.[1];
    if (content === undefined) continue;
    const reported = STATISTICS.exec(content)?.[1];
    if (reported === undefined) {
      counted += content.length;
      chunks += 1;
    } else {
      checks.push({ reported: Number(reported), counted, chunks });
      counted = 0;
      chunks = 0;
    }
  }
  return checks;
}

/** Waits until `proc` has printed `count` more lines matching `pattern` (after its cursor). */
export async function waitForLines(proc: Proc, pattern: RegExp, count: number, options?: WaitOptions): Promise<RegExpMatchArray[]> {
  const matches: RegExpMatchArray[] = [];
  for (let i = 0; i < count; i++) matches.push(await proc.waitForLine(pattern, options));
  return matches;
}
