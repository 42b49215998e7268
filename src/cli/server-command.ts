import { startServer, type CloseOptions, type StartOptions } from '../server/server.js';
import type { ServerEvent, ServerEventSink } from '../server/events.js';
import { MAX_CHUNK_LENGTH } from '../protocol/defaults.js';
import { BYTE_ORDER } from '../protocol/frame.js';
import { encodeClientRequest } from '../protocol/messages.js';
import { DEFAULT_SERVER_CONFIG as D, type ServerConfig } from '../server/config.js';
import { MAX_WORKERS, startCluster, type ClusterEventSink } from '../server/cluster.js';
import { isClusterWorker, startWorker } from '../server/cluster-worker.js';
import { ListenError } from '../server/listen-error.js';
import { startClusterMonitor, startMonitor, startWorkerAgent } from '../monitor/index.js';
import { clusterLine } from '../output/cluster-lines.js';
import { listenFailedLine, serverLine, showsChunkEvents, shutdownReason, type ListenFailure } from '../output/server-lines.js';
import { DEFAULT_MODE, type Mode } from '../output/mode.js';
import { Printer } from '../output/printer.js';
import { namingSources, parseCommandLine, printHelpOrVersion, stringValue, type CommandLine } from './command-line.js';
import { LOOPBACK_RANGES } from '../transport/address-range.js';
import { loadCredentials, TlsFilesError, type TlsSettings } from '../transport/tls-credentials.js';
import type { ProxySettings } from '../transport/accept.js';
import {
  MAX_INTERVAL_SECONDS,
  parseAddressRanges,
  parseAlphabet,
  parseClientAuth,
  parseInteger,
  parseListenAddress,
  parseRange,
  parseSeconds,
  UsageError,
} from './values.js';
import { signalExitCode, type Command } from './run-cli.js';
import { WEB_OPTIONS, WEB_USAGE, webConfigFrom } from './web-options.js';

/**
 * The smallest `--max-header` that lets a real client in: the header of the statistics request
 * that our client and the original send, as a little-endian machine writes it ("little" is the
 * longer byteorder). Below it every client would be refused.
 */
export const MIN_REQUEST_HEADER = encodeClientRequest().readUInt16BE(0) + 'little'.length - BYTE_ORDER.length;

const DAY_MS = 86_400_000;

/** The server's options in the environment: `MULTI_SOCKET_INTERVAL=0.5-2`. */
export const SERVER_ENV_PREFIX = 'MULTI_SOCKET_';

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
                             or ':', each once; ranges of letters or digits (A-F), groups
                             apart by spaces, a '-' itself first or last in a group
                             (default: A-Z a-z 0-9)
  --seed N                   reproducible streams: the same seed and connection order give
                             the same chunks and waits (default: random)
  --max-clients N            connections served at once; more are refused with an error
                             frame; with --workers, each worker takes its share, rounded
                             up (default: ${D.maxClients})
  --max-clients-per-address N
                             connections served at once from one address (behind a load
                             balancer, the one its PROXY header carries); with --workers,
                             each worker takes its share, rounded up (default: no limit)
  --max-header BYTES         largest request header accepted, at least ${MIN_REQUEST_HEADER}, the size
                             of a real request's (default: ${D.maxHeaderLength})
  --max-request BYTES        largest request content accepted (default: ${D.maxRequestLength})
  --frame-timeout SECONDS    time a started frame has to complete, and a new connection
                             its PROXY header and TLS handshake (default: ${D.frameTimeoutMs / 1000})
  --slow-client-timeout SECONDS
                             time a client may leave its buffer full before it is
                             disconnected (default: ${D.slowClientTimeoutMs / 1000})
  --shutdown-timeout SECONDS time clients get to read the shutdown frame on SIGINT or
                             SIGTERM before their sockets are destroyed (default: ${D.shutdownTimeoutMs / 1000})
  --metrics [HOST:]PORT      serve a live dashboard at http://HOST:PORT/, the figures
                             behind it (/events, /varz, /connz, /healthz, /readyz) and
                             Prometheus metrics (/metrics) (HOST defaults to 127.0.0.1;
                             PORT 0 picks a free one)
${WEB_USAGE}
  --stats-interval SECONDS   print the counters (errors by code, clients, memory, handles)
                             this often; 0 for never; with --workers, each worker prints its
                             own (default: 0)
  --tls-cert FILE            serve TLS (1.2 and newer) with this certificate, then any
                             intermediates (PEM); needs --tls-key; SIGHUP reads the TLS
                             files again for new connections
  --tls-key FILE             the certificate's private key (PEM, not encrypted)
  --tls-client-auth request|require
                             ask clients for a certificate from --tls-ca: request (a client
                             may send none) or require (refused without a valid one)
  --tls-ca FILE              the CAs client certificates must come from (PEM)
  --proxy-protocol           expect a PROXY protocol header (v1 or v2, as HAProxy sends
                             it) first on every connection, before TLS, and use the
                             client address it carries
  --proxy-trusted CIDR[,CIDR...]
                             where PROXY headers may come from; a connection from elsewhere
                             is refused (default: ${LOOPBACK_RANGES.map((range) => range.text).join(',')})
  --workers N                run N server processes sharing the port (node:cluster), 1 to
                             ${MAX_WORKERS}; a worker that dies is replaced, SIGINT/SIGTERM drains
                             them all (default: 1, a single process)
  -h, --help                 show this help
  -V, --version              show the version

Every argument and option can also be given as the environment variable shown beside it
(booleans as 1 or 0); the command line wins over the environment.`;

export const SERVER_OPTIONS = {
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
  'max-clients-per-address': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-client-auth': { type: 'string' },
  'proxy-protocol': { type: 'boolean' },
  'proxy-trusted': { type: 'string' },
  ...WEB_OPTIONS,
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
    interval: option('interval', (t) => parseRange('--interval', t, false, { min: 0, max: MAX_INTERVAL_SECONDS }), D.interval),
    alphabet: option('alphabet', parseAlphabet, D.alphabet),
    seed: option('seed', (t) => parseInteger('--seed', t, 0, 0xffff_ffff), D.seed),
    maxClients: option('max-clients', (t) => parseInteger('--max-clients', t, 1, 10_000_000), D.maxClients),
    maxHeaderLength: option(
      'max-header',
      (t) => parseInteger('--max-header', t, MIN_REQUEST_HEADER, 0xffff, `a real request's header is ${MIN_REQUEST_HEADER} bytes`),
      D.maxHeaderLength,
    ),
    maxRequestLength: option('max-request', (t) => parseInteger('--max-request', t, 1, MAX_CHUNK_LENGTH), D.maxRequestLength),
    frameTimeoutMs: option('frame-timeout', (t) => parseSeconds('--frame-timeout', t, 1, DAY_MS), D.frameTimeoutMs),
    slowClientTimeoutMs: option('slow-client-timeout', (t) => parseSeconds('--slow-client-timeout', t, 1, DAY_MS), D.slowClientTimeoutMs),
    shutdownTimeoutMs: option('shutdown-timeout', (t) => parseSeconds('--shutdown-timeout', t, 0, DAY_MS), D.shutdownTimeoutMs),
    metrics: option('metrics', parseListenAddress, D.metrics),
    statsIntervalMs: option('stats-interval', (t) => parseSeconds('--stats-interval', t, 0, DAY_MS), D.statsIntervalMs),
    maxClientsPerAddress: option('max-clients-per-address', (t) => parseInteger('--max-clients-per-address', t, 1, 10_000_000), D.maxClientsPerAddress),
    tls: tlsFrom(line),
    proxy: proxyFrom(line),
  };
}

/** `--tls-*`: the files, checked here (read, parsed, the key matched to the certificate) so that a bad one is a bad command line. */
function tlsFrom(line: CommandLine): TlsSettings | undefined {
  const [cert, key, ca, auth] = ['tls-cert', 'tls-key', 'tls-ca', 'tls-client-auth'].map((name) => stringValue(line, name));
  const clientAuth = auth === undefined ? 'none' : parseClientAuth(auth);
  if (cert === undefined && key === undefined) {
    if (ca !== undefined || auth !== undefined) throw new UsageError('--tls-ca and --tls-client-auth need --tls-cert and --tls-key');
    return undefined;
  }
  if (cert === undefined || key === undefined) throw new UsageError('--tls-cert and --tls-key need each other');
  if ((ca === undefined) !== (auth === undefined)) throw new UsageError('--tls-client-auth and --tls-ca need each other');
  const files = { cert, key, ...(ca === undefined ? {} : { ca }) };
  try {
    loadCredentials(files);
  } catch (error) {
    if (error instanceof TlsFilesError) throw new UsageError(error.message);
    throw error;
  }
  return { files, clientAuth };
}

function proxyFrom(line: CommandLine): ProxySettings | undefined {
  const trusted = stringValue(line, 'proxy-trusted');
  const ranges = trusted === undefined ? LOOPBACK_RANGES : parseAddressRanges('--proxy-trusted', trusted);
  if (line.values['proxy-protocol'] !== true) {
    if (trusted !== undefined) throw new UsageError('--proxy-trusted needs --proxy-protocol');
    return undefined;
  }
  return { trusted: ranges };
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
    const line = parseCommandLine(argv, SERVER_OPTIONS, { envPrefix: SERVER_ENV_PREFIX });
    if (line.help || line.version) return printHelpOrVersion(line, SERVER_USAGE);
    const { config, workers, webConfig } = namingSources(line, () => ({ config: serverConfigFrom(line), workers: workersFrom(line), webConfig: webConfigFrom(line) }));
    // Loaded only when asked for, as the metrics are: `ws` costs start-up time most runs do not need.
    const web = webConfig === undefined ? undefined : (await import('../web/web-port.js')).webPort(webConfig, config);
    const printer = new Printer(1);
    const report: ServerEventSink = printer.sink(serverLine, line.mode);
    const reportCluster: ClusterEventSink = printer.sink(clusterLine, line.mode);
    try {
      const options: StartOptions = { chunkEvents: showsChunkEvents(line.mode), web, monitor: startMonitor };
      if (workers > 1 && isClusterWorker()) return await serveAsWorker(config, workers, report, options);
      const hangups = new Hangups();
      const start = new StartWatch(report);
      // The signals are handled before `listening on` is out: a script that sends SIGINT or
      // SIGTERM as soon as it reads that line must get a clean drain. The line is written on
      // another thread, so it can reach the reader before this one runs its next statement.
      try {
        if (workers === 1) {
          const server = await startServer(config, start.sink, options);
          hangups.reload(server);
          const serving = serve(server, report, { signals: STOP_SIGNALS });
          start.started();
          return await serving;
        }
        const running = await startCluster(config, workers, start.sink, reportCluster, { monitor: startClusterMonitor });
        hangups.reload(running);
        const serving = serve(running, report, {
          signals: STOP_SIGNALS,
          requests: (stop) => void running.failed.then(() => stop(1, { reason: shutdownReason('workers keep dying') })),
        });
        start.started();
        return await serving;
      } catch (error) {
        if (!(error instanceof ListenError)) throw error;
        return reportFailedStart(line.mode, { type: 'listen-failed', listener: error.listener, host: error.host, port: error.port, error: systemError(error.cause) }, printer);
      }
    } finally {
      await printer.drain();
    }
  },
};

/**
 * Holds the server's lines until every listener is open, the web and metrics ones included: a
 * script that waits for `listening on` then finds the whole server up, and a port that cannot
 * be had fails the start before that line.
 */
class StartWatch {
  #held: ServerEvent[] | undefined = [];

  constructor(readonly report: ServerEventSink) {}

  readonly sink: ServerEventSink = (event) => {
    if (this.#held === undefined) this.report(event);
    else this.#held.push(event);
  };

  /** Every listener is open: out with what was held, and everything from now on. */
  started(): void {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const event of held) this.report(event);
  }
}

/** The one line of a start that failed: with the other events in json mode, else on stderr (by runCli). */
function reportFailedStart(mode: Mode, failure: ListenFailure, printer: Printer): number {
  const text = listenFailedLine(mode, failure);
  if (mode !== 'json') throw new Error(text);
  printer.line(text);
  return 1;
}

/**
 * The failure as a system error. With `--workers` a worker's arrives as its message alone
 * (`bind EADDRINUSE 127.0.0.1:65432`), so its code is read back from the message.
 */
function systemError(error: unknown): NodeJS.ErrnoException {
  const failed: NodeJS.ErrnoException = error instanceof Error ? error : new Error(String(error));
  const code = failed.code ?? /\b(E[A-Z]{2,})\b/.exec(failed.message)?.[1];
  return code === undefined ? failed : Object.assign(new Error(failed.message), { code });
}

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

/**
 * SIGHUP, handled from the start: its default would end the process at once, and it may come
 * while the server starts, before it is handed over here. One that comes before is kept for it.
 * SIGHUP never stops the server: it reloads, or says there is nothing to.
 */
class Hangups {
  #target: { reload(): void } | undefined;
  #missed = false;

  constructor() {
    process.on('SIGHUP', () => {
      if (this.#target === undefined) this.#missed = true;
      else this.#target.reload();
    });
  }

  reload(target: { reload(): void }): void {
    this.#target = target;
    if (this.#missed) target.reload();
    this.#missed = false;
  }
}

/** One worker of `--workers N`: stops when the primary says so, and on a SIGTERM of its own. */
async function serveAsWorker(config: ServerConfig, workers: number, report: ServerEventSink, options: StartOptions): Promise<number> {
  // Ctrl-C in a terminal signals the whole foreground process group, every worker with the
  // primary. The primary alone decides: it asks each worker to drain, once, and a second Ctrl-C
  // makes it kill them. Left to the default, SIGINT would kill every worker at once.
  process.on('SIGINT', () => undefined);
  // The same for SIGHUP: the primary passes it on to every worker, once.
  process.on('SIGHUP', () => undefined);
  const worker = await startWorker(config, workers, report, { chunkEvents: options.chunkEvents, web: options.web, agent: startWorkerAgent });
  // It could not listen: the primary reports why, once for the whole server.
  if (worker === undefined) return 1;
  const serving = serve(worker.server, report, {
    signals: ['SIGTERM'],
    requests: (stop) => worker.onStopRequest((options) => stop(0, options)),
  });
  worker.announce();
  const code = await serving;
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
        stop(0, { reason: shutdownReason(signal), signal });
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
      if (!recovered) stop(1, { reason: shutdownReason('internal error') });
    };
    process.on('uncaughtException', onFault);
    process.on('unhandledRejection', onFault);
  });
}

const SOCKET_ERROR_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH']);

function isStraySocketError(error: NodeJS.ErrnoException): boolean {
  return error.code !== undefined && SOCKET_ERROR_CODES.has(error.code);
}
