import { startServer, type CloseOptions } from '../server/server.js';
import type { ServerEventSink } from '../server/events.js';
import { MAX_CHUNK_LENGTH } from '../protocol/defaults.js';
import { DEFAULT_SERVER_CONFIG as D, type ServerConfig } from '../server/config.js';
import { MAX_WORKERS, startCluster, type ClusterEventSink } from '../server/cluster.js';
import { isClusterWorker, startWorker } from '../server/cluster-worker.js';
import { startClusterMonitor, startMonitor, startWorkerAgent } from '../monitor/index.js';
import { clusterLine } from '../output/cluster-lines.js';
import { serverLine, showsChunkEvents } from '../output/server-lines.js';
import { DEFAULT_MODE } from '../output/mode.js';
import { Printer } from '../output/printer.js';
import { parseCommandLine, printHelpOrVersion, stringValue, type CommandLine } from './command-line.js';
import { parseAlphabet, parseInteger, parseListenAddress, parseRange, parseSeconds } from './values.js';
import { signalExitCode, type Command } from './run-cli.js';

const DAY_MS = 86_400_000;

export const SERVER_USAGE = `usage: multi-socket-server <host> <port> <mode> [options]

Streams chunks of random symbols to every connected client, each on its own schedule,
and answers each client's statistics requests.

arguments (optional, in this order):
  host                       address to listen on (default: ${D.host}; '::' for every
                             IPv6 and IPv4 address, '0.0.0.0' for every IPv4 one)
  port                       TCP port, 0 for any free one (default: ${D.port})
  mode                       user, debug, quiet or json (default: ${DEFAULT_MODE})

options:
  --chars MIN-MAX            symbols per chunk (default: ${D.chars.min}-${D.chars.max})
  --interval MIN-MAX         seconds between chunks, fractions allowed; 0-0 sends as fast
                             as the client reads (default: ${D.interval.min}-${D.interval.max})
  --alphabet SYMBOLS         the symbols chunks are made of: printable ASCII without space
                             or ':', each once (default: A-Z a-z 0-9)
  --seed N                   reproducible streams: the same seed and connection order give
                             the same chunks and waits (default: random)
  --max-clients N            connections served at once; more are refused with an error
                             frame; with --workers, each worker takes its share, rounded
                             up (default: ${D.maxClients})
  --max-header BYTES         largest request header accepted (default: ${D.maxHeaderLength})
  --max-request BYTES        largest request content accepted (default: ${D.maxRequestLength})
  --frame-timeout SECONDS    time a started frame has to complete (default: ${D.frameTimeoutMs / 1000})
  --slow-client-timeout SECONDS
                             time a client may leave its buffer full before it is
                             disconnected (default: ${D.slowClientTimeoutMs / 1000})
  --shutdown-timeout SECONDS time clients get to read the shutdown frame on SIGINT or
                             SIGTERM before their sockets are destroyed (default: ${D.shutdownTimeoutMs / 1000})
  --metrics [HOST:]PORT      serve a live dashboard at http://HOST:PORT/, the figures
                             behind it (/events, /varz, /connz, /healthz, /readyz) and
                             Prometheus metrics (/metrics) (HOST defaults to 127.0.0.1;
                             PORT 0 picks a free one)
  --stats-interval SECONDS   print the counters (errors by code, clients, memory, handles)
                             this often; 0 for never; with --workers, each worker prints its
                             own (default: 0)
  --workers N                run N server processes sharing the port (node:cluster), 1 to
                             ${MAX_WORKERS}; a worker that dies is replaced, SIGINT/SIGTERM drains
                             them all (default: 1, a single process)
  -h, --help                 show this help
  -V, --version              show the version`;

const OPTIONS = {
  chars: { type: 'string' },
  interval: { type: 'string' },
  alphabet: { type: 'string' },
  seed: { type: 'string' },
  'max-clients': { type: 'string' },
  'max-header': { type: 'string' },
  'max-request': { type: 'string' },
  'frame-timeout': { type: 'string' },
  'slow-client-timeout': { type: 'string' },
  'shutdown-timeout': { type: 'string' },
  'stats-interval': { type: 'string' },
  metrics: { type: 'string' },
  workers: { type: 'string' },
} as const;

/** argv to a validated configuration; every check happens here, once. */
export function serverConfigFrom(line: CommandLine): ServerConfig {
  const option = <T>(name: string, parse: (text: string) => T, fallback: T): T => {
    const text = stringValue(line, name);
    return text === undefined ? fallback : parse(text);
  };
  return {
    host: line.host,
    port: line.port,
    chars: option('chars', (t) => parseRange('--chars', t, true, { min: 1, max: MAX_CHUNK_LENGTH }), D.chars),
    interval: option('interval', (t) => parseRange('--interval', t, false, { min: 0, max: 86_400 }), D.interval),
    alphabet: option('alphabet', parseAlphabet, D.alphabet),
    seed: option('seed', (t) => parseInteger('--seed', t, 0, 0xffff_ffff), D.seed),
    maxClients: option('max-clients', (t) => parseInteger('--max-clients', t, 1, 10_000_000), D.maxClients),
    maxHeaderLength: option('max-header', (t) => parseInteger('--max-header', t, 16, 0xffff), D.maxHeaderLength),
    maxRequestLength: option('max-request', (t) => parseInteger('--max-request', t, 1, MAX_CHUNK_LENGTH), D.maxRequestLength),
    frameTimeoutMs: option('frame-timeout', (t) => parseSeconds('--frame-timeout', t, 1, DAY_MS), D.frameTimeoutMs),
    slowClientTimeoutMs: option('slow-client-timeout', (t) => parseSeconds('--slow-client-timeout', t, 1, DAY_MS), D.slowClientTimeoutMs),
    shutdownTimeoutMs: option('shutdown-timeout', (t) => parseSeconds('--shutdown-timeout', t, 0, DAY_MS), D.shutdownTimeoutMs),
    metrics: option('metrics', parseListenAddress, D.metrics),
    statsIntervalMs: option('stats-interval', (t) => parseSeconds('--stats-interval', t, 0, DAY_MS), D.statsIntervalMs),
  };
}

/** `--workers N`: how many server processes (1, the default, is no cluster at all). */
export function workersFrom(line: CommandLine): number {
  const text = stringValue(line, 'workers');
  return text === undefined ? 1 : parseInteger('--workers', text, 1, MAX_WORKERS);
}

export const serverCommand: Command = {
  name: 'multi-socket-server',
  usage: SERVER_USAGE,
  async main(argv) {
    const line = parseCommandLine(argv, OPTIONS);
    if (line.help || line.version) return printHelpOrVersion(line, SERVER_USAGE);
    const config = serverConfigFrom(line);
    const workers = workersFrom(line);
    const printer = new Printer(1);
    const report: ServerEventSink = printer.sink(serverLine, line.mode);
    const reportCluster: ClusterEventSink = printer.sink(clusterLine, line.mode);
    try {
      if (workers === 1) {
        return await serve(await startServer(config, report, { chunkEvents: showsChunkEvents(line.mode), monitor: startMonitor }), report, { signals: STOP_SIGNALS });
      }
      if (isClusterWorker()) return await serveAsWorker(config, workers, report, showsChunkEvents(line.mode));
      const running = await startCluster(config, workers, report, reportCluster, { monitor: startClusterMonitor });
      return await serve(running, report, {
        signals: STOP_SIGNALS,
        requests: (stop) => void running.failed.then(() => stop(1, { reason: 'server shutting down (workers keep dying)' })),
      });
    } finally {
      await printer.drain();
    }
  },
};

const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/** What can be stopped: one server, or the primary of many. */
interface Stoppable {
  close(options: CloseOptions): Promise<void>;
  /** Ends at once what would outlive this process (the workers): for a second signal. */
  kill?(): void;
}

interface StopSources {
  /** The first of these stops cleanly; a second means now. */
  readonly signals: readonly NodeJS.Signals[];
  /** Other ways to be asked to stop: the primary's request, the crash-loop guard. */
  readonly requests?: (stop: (code: number, options: CloseOptions) => void) => void;
}

/** One worker of `--workers N`: stops when the primary says so, and on a SIGTERM of its own. */
async function serveAsWorker(config: ServerConfig, workers: number, report: ServerEventSink, chunkEvents: boolean): Promise<number> {
  // Ctrl-C in a terminal signals the whole foreground process group, every worker with the
  // primary. The primary alone decides: it asks each worker to drain, once, and a second Ctrl-C
  // makes it kill them. Left to the default, SIGINT would kill every worker at once.
  process.on('SIGINT', () => undefined);
  const worker = await startWorker(config, workers, report, { chunkEvents, agent: startWorkerAgent });
  // It could not listen: the primary reports why, once for the whole server.
  if (worker === undefined) return 1;
  const code = await serve(worker.server, report, {
    signals: ['SIGTERM'],
    requests: (stop) => worker.onStopRequest((options) => stop(0, options)),
  });
  await worker.flush();
  return code;
}

/** Serves until asked to stop; resolves with the exit code. */
function serve(server: Stoppable, report: ServerEventSink, sources: StopSources): Promise<number> {
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (code: number, options: CloseOptions): void => {
      if (stopping) return;
      stopping = true;
      void server.close(options).then(() => resolve(code));
    };
    // SIGINT and SIGTERM stop the server cleanly; a second signal means now.
    const onSignal = (signal: NodeJS.Signals): void => {
      if (!stopping) {
        stop(0, { reason: `server shutting down (${signal})`, signal });
        return;
      }
      server.kill?.();
      resolve(signalExitCode(signal));
    };
    for (const signal of sources.signals) process.on(signal, onSignal);
    sources.requests?.(stop);
    // The last resort, for what escaped every connection's own guard. A stray socket error
    // leaves nothing inconsistent and the server goes on; anything else may have, so the
    // server shuts down cleanly and exits 1 rather than serve from a broken state.
    const onFault = (fault: unknown): void => {
      const error = fault instanceof Error ? fault : new Error(String(fault));
      const recovered = isStraySocketError(error);
      report({ type: 'process-error', error, recovered });
      if (!recovered) stop(1, { reason: 'server shutting down (internal error)' });
    };
    process.on('uncaughtException', onFault);
    process.on('unhandledRejection', onFault);
  });
}

const SOCKET_ERROR_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH']);

function isStraySocketError(error: NodeJS.ErrnoException): boolean {
  return error.code !== undefined && SOCKET_ERROR_CODES.has(error.code);
}
