import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fetchMetrics, type Metrics } from '../../test/support/metrics.js';
import { SERVER_BIN, SERVER_NODE_FLAGS } from '../../test/support/programs.js';
import { waitFor } from '../../test/support/wait.js';

export const BARE_SERVER_BIN = fileURLToPath(new URL('./bare-server.js', import.meta.url));
export const BARE_WS_SERVER_BIN = fileURLToPath(new URL('./bare-ws-server.js', import.meta.url));
const CLOCK_TICKS_PER_SECOND = 100;
const PAGE_KB = 4;

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * The real server as a child process, watched from outside: its port and metrics address
 * from its first lines, its CPU time and memory from /proc, its counters from /metrics.
 * Its output is counted, not kept, so a chatty mode costs the benchmark nothing.
 */
export class ServerProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  port = 0;
  /** The web port, for a server started with `--web`. */
  webPort: number | undefined;
  metricsUrl: string | undefined;
  stdoutLines = 0;
  stdoutBytes = 0;
  stderr = '';
  #firstLines = '';

  private constructor(child: ChildProcess) {
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.stdout?.on('data', (data: Buffer) => {
      this.stdoutBytes += data.length;
      for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, i + 1)) this.stdoutLines++;
      if (this.#firstLines.length < 4096) this.#firstLines += data.toString('utf8');
    });
    child.stderr?.on('data', (data: Buffer) => {
      if (this.stderr.length < 65536) this.stderr += data.toString('utf8');
    });
  }

  /**
   * Starts `node [the server's Node options] [nodeArgs] server host 0 mode [args]` and waits for
   * its listening line. A bare server gets the same Node options as ours, so that a ratio
   * between them compares their code.
   */
  static async start(options: { bin?: string; host?: string; mode?: string; args?: readonly string[]; nodeArgs?: readonly string[]; metrics?: boolean; web?: boolean }): Promise<ServerProcess> {
    const args = [
      ...SERVER_NODE_FLAGS,
      ...(options.nodeArgs ?? []),
      options.bin ?? SERVER_BIN,
      options.host ?? '127.0.0.1',
      '0',
      options.mode ?? 'quiet',
      ...(options.metrics === false ? [] : ['--metrics', '127.0.0.1:0']),
      ...(options.web === true ? ['--web', '127.0.0.1:0'] : []),
      ...(options.args ?? []),
    ];
    const server = new ServerProcess(spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    await server.#ready(options.metrics !== false, options.web === true);
    return server;
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** Waits for the first lines to name the port (and the metrics and web addresses); the output is counted, not watched. */
  async #ready(withMetrics: boolean, withWeb: boolean): Promise<void> {
    const ready = (): boolean => {
      const port = /listening on \('[^']*', (\d+)\)|"event":"listening".*?"port":(\d+)/.exec(this.#firstLines);
      const metrics = /metrics on (http:\/\/\S+)|"event":"metrics".*?"port":(\d+)/.exec(this.#firstLines);
      const web = /web client on http:\/\/\S+:(\d+)\/|"event":"web".*?"port":(\d+)/.exec(this.#firstLines);
      if (port === null || (withMetrics && metrics === null) || (withWeb && web === null)) return false;
      this.port = Number(port[1] ?? port[2]);
      if (web !== null) this.webPort = Number(web[1] ?? web[2]);
      if (metrics !== null) this.metricsUrl = metrics[1] ?? `http://127.0.0.1:${metrics[2] ?? ''}/metrics`;
      return true;
    };
    // Timed out or exited: either way its output says why.
    await waitFor(() => ready() || this.child.exitCode !== null, { timeoutMs: 15_000, what: 'the server to start' }).catch(() => undefined);
    if (this.port === 0) throw new Error(`server did not start: ${this.#firstLines}${this.stderr}`);
  }

  /** CPU time used so far (user + system), in seconds. */
  cpuSeconds(): number {
    return cpuSecondsOf(this.pid);
  }

  /**
   * CPU time used so far in user space and in the kernel, in seconds: the server's process and
   * its children (the workers of `--workers`), added up.
   */
  cpuSplit(): { user: number; system: number } {
    return cpuSplitOf(this.pid);
  }

  /** Resident memory now, in bytes, of the server's process and its children. */
  rssBytes(): number {
    let pages = 0;
    for (const pid of processTree(this.pid)) pages += Number(readIfThere(`/proc/${pid}/statm`).split(' ')[1] ?? 0);
    return pages * PAGE_KB * 1024;
  }

  /** Open file descriptors of the server's process and its children, sockets included, so a leak shows. */
  openFiles(): number {
    let files = 0;
    for (const pid of processTree(this.pid)) files += readdirSync(`/proc/${pid}/fd`).length;
    return files;
  }

  metrics(): Promise<Metrics> {
    if (this.metricsUrl === undefined) throw new Error('server started without --metrics');
    return fetchMetrics(this.metricsUrl);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

/** CPU time used so far in user space and in the kernel, in seconds, by a process (all its threads) and its children. */
function cpuSplitOf(root: number): { user: number; system: number } {
  let user = 0;
  let system = 0;
  for (const pid of processTree(root)) {
    const fields = statFields(pid);
    user += Number(fields[11]) / CLOCK_TICKS_PER_SECOND;
    system += Number(fields[12]) / CLOCK_TICKS_PER_SECOND;
  }
  return { user, system };
}

/** CPU time used so far (user + system), in seconds, by a process (all its threads) and its children. */
export function cpuSecondsOf(root: number): number {
  const { user, system } = cpuSplitOf(root);
  return user + system;
}

/** A process and all its descendants, found by their parent ids in /proc. */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const parent = Number(statFields(Number(entry))[1]);
    const siblings = children.get(parent) ?? [];
    siblings.push(Number(entry));
    children.set(parent, siblings);
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i] as number) ?? []));
  return tree;
}

/** The fields of /proc/PID/stat after the command name (state first); empty if the process is gone. */
function statFields(pid: number): string[] {
  return readIfThere(`/proc/${pid}/stat`).split(') ')[1]?.split(' ') ?? [];
}

function readIfThere(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Percentiles of the lateness histogram between two scrapes: the difference of the cumulative
 * bucket counts, read as the upper bound of the bucket the rank falls in.
 */
export function histogramDelta(before: Metrics | undefined, after: Metrics, name: string): { count: number; p50: number; p99: number; max: number } {
  const buckets: { le: number; count: number }[] = [];
  for (const [key, value] of after) {
    const match = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\}$`).exec(key);
    if (match === null) continue;
    const le = match[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(match[1]);
    buckets.push({ le, count: value - (before?.get(key) ?? 0) });
  }
  buckets.sort((a, b) => a.le - b.le);
  const count = buckets.at(-1)?.count ?? 0;
  const at = (p: number): number => buckets.find((bucket) => bucket.count >= Math.ceil(p * count))?.le ?? 0;
  const nonEmpty = buckets.find((bucket) => bucket.count === count);
  return { count, p50: at(0.5), p99: at(0.99), max: nonEmpty?.le ?? 0 };
}
