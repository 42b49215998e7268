import type { Peer, ServerEvent } from '../server/events.js';
import type { ListenerName } from '../server/listen-error.js';
import type { ProcessSnapshot, StatsSnapshot } from '../server/snapshot.js';
import { jsonLine, jsonText } from './json-line.js';
import type { Mode } from './mode.js';
import { addressLabel, addressRepr, bytesRepr, osErrorText, sleepyLine } from './python-repr.js';

/** The events about one connection. */
type PeerEvent = Extract<ServerEvent, { readonly peer: Peer }>;

/**
 * What each server event looks like in each mode; undefined when the mode does not show it.
 *
 * `user` prints the original's lines letter for letter. `debug` puts a timestamp and the peer
 * on every line and adds the schedule, headers, byte counts and timings. `quiet` keeps the
 * lifecycle and the errors. `json` prints one object per event for scripts.
 */
export function serverLine(mode: Mode, event: ServerEvent): string | undefined {
  switch (mode) {
    case 'user':
      return userLine(event);
    case 'quiet':
      return quietLine(event);
    case 'debug':
      return debugLine(event);
    case 'json':
      return serverJson(event);
  }
}

/**
 * Whether `mode` shows any per-chunk event ('chunk', 'scheduled'). They are most of what a
 * server could emit, so the server builds them only for an output that prints them.
 */
export function showsChunkEvents(mode: Mode): boolean {
  return mode !== 'quiet';
}

function userLine(event: ServerEvent): string | undefined {
  switch (event.type) {
    case 'listening':
      return `listening on ${addressRepr(event.host, event.port)}`;
    case 'accepted':
      return `accepted connection from ${addressLabel(event.peer)}`;
    case 'chunk':
      return `${sleepyLine(event.sleepTime)}\nsending ${bytesRepr(event.content)} to ${addressLabel(event.peer)}`;
    case 'request':
      return `received request from ${addressLabel(event.peer)}`;
    case 'statistics':
      return `sending ${bytesRepr(event.content)} to ${addressLabel(event.peer)}`;
    case 'peer-closed':
      return 'error: Peer closed';
    case 'closed':
      return `closing connection to ${addressLabel(event.peer)}`;
    case 'shutdown': {
      const line = quietLine(event) as string;
      // The original's only words on Ctrl-C.
      return event.signal === 'SIGINT' ? `Caught keyboard interrupt, exiting\n${line}` : line;
    }
    case 'scheduled':
    case 'blocked':
    case 'unblocked':
    case 'health-check':
      return undefined;
    default:
      return quietLine(event);
  }
}

function quietLine(event: ServerEvent): string | undefined {
  switch (event.type) {
    case 'listening':
      return `listening on ${addressRepr(event.host, event.port)}`;
    case 'rejected':
    case 'protocol-error':
      return `error: ${event.error.message} (${event.error.code}) from ${addressLabel(event.peer)}`;
    case 'connection-error':
      return `error: ${osErrorText(event.error)} from ${addressLabel(event.peer)}`;
    case 'internal-error':
      return `error: internal error serving ${addressLabel(event.peer)}, connection dropped: ${event.error.message}`;
    case 'shutdown': {
      const cause = shutdownCause(event.reason);
      return `shutting down${cause === '' ? '' : `: ${cause}`} (${plural(event.clients, 'client')} connected)`;
    }
    case 'stopped':
      return event.forced === 0 ? 'stopped' : `stopped (${plural(event.forced, 'slow client')} cut off)`;
    case 'stats':
      return statsText(event.stats, event.process);
    case 'metrics':
      return `metrics on ${metricsUrl(event.host, event.port)}`;
    case 'web':
      return `web client on ${webUrl(event.host, event.port, event.tls)}`;
    case 'process-error':
      return `error: unexpected ${event.error.name}: ${event.error.message} (${event.recovered ? 'server carries on' : 'shutting down'})`;
    case 'tls-error':
      return `error: TLS handshake failed from ${addressLabel(event.peer)}: ${printable(event.error.message)} (${printable(event.error.code)})`;
    case 'tls-reloaded': {
      const { subject, validTo } = event.certificate;
      const where = event.workers === undefined ? '' : ` (${plural(event.workers, 'worker')})`;
      return `reloaded the TLS certificate and key for new connections${where}: ${printable(subject)}, valid until ${isoSeconds(validTo)}`;
    }
    case 'tls-reload-failed': {
      const where = event.workers === undefined ? '' : ` (in ${event.workers.failed} of ${plural(event.workers.of, 'worker')})`;
      return `error: TLS reload failed${where}, still using the previous certificate and key: ${printable(event.error.message)}`;
    }
    case 'nothing-to-reload':
      return 'SIGHUP: nothing to reload (no --tls-cert); the server carries on';
    default:
      return undefined;
  }
}

function debugLine(event: ServerEvent): string {
  const time = new Date().toISOString().slice(11, 23);
  switch (event.type) {
    case 'listening':
      return `${time} listening on ${addressRepr(event.host, event.port)} (${event.family}, pid ${process.pid})`;
    case 'shutdown':
    case 'stopped':
    case 'stats':
    case 'metrics':
    case 'web':
    case 'tls-reload-failed':
    case 'nothing-to-reload':
      return `${time} ${quietLine(event) ?? ''}`;
    case 'tls-reloaded':
      return `${time} ${quietLine(event) ?? ''}, SHA-256 ${event.certificate.fingerprint}`;
    case 'process-error':
      return `${time} ${quietLine(event) ?? ''}\n${event.error.stack ?? ''}`;
    default:
      return `${time} ${addressLabel(event.peer)} ${debugText(event)}`;
  }
}

function debugText(event: PeerEvent): string {
  switch (event.type) {
    case 'accepted':
      return `accepted connection #${event.peer.id} (${event.clients} connected)`;
    case 'rejected':
      return `rejected: ${event.error.message} (${event.error.code})`;
    case 'scheduled':
      return `next chunk in ${event.wait.seconds} s`;
    case 'chunk':
      return `${sleepyLine(event.sleepTime)} (late ${event.lateMs.toFixed(2)} ms), sending ${bytesRepr(event.content)}: ${plural(event.content.length, 'symbol')}, ${plural(event.frameBytes, 'byte')}`;
    case 'request':
      // Every value in the header is the peer's: escaped like the content, never printed raw.
      return `received request ${bytesRepr(event.content)}, header ${jsonText(event.header)}`;
    case 'statistics':
      return `sending ${bytesRepr(event.content)}: ${event.frameBytes} bytes, counter reset`;
    case 'protocol-error':
      return `error: ${event.error.message} (${event.error.code})`;
    case 'blocked':
      return `socket buffer full (${event.queuedBytes} bytes queued): chunks and reading paused`;
    case 'unblocked':
      return `socket drained after ${event.blockedMs.toFixed(1)} ms: chunks and reading resumed`;
    case 'peer-closed':
      return 'error: Peer closed';
    case 'connection-error':
      return `error: ${osErrorText(event.error)} (${event.error.code ?? 'no code'})`;
    case 'internal-error':
      return `error: internal error, connection dropped: ${event.error.stack ?? event.error.message}`;
    case 'health-check':
      return 'health check (PROXY v2 LOCAL): closed, not a client';
    case 'tls-error':
      return `error: TLS handshake failed: ${printable(event.error.message)} (${printable(event.error.code)})`;
    case 'closed': {
      const s = event.summary;
      return (
        `closing connection after ${(s.durationMs / 1000).toFixed(3)} s: ${plural(s.chunks, 'chunk')}, ${plural(s.symbols, 'symbol')}, ` +
        `${plural(s.bytesRead, 'byte')} read, ${plural(s.bytesWritten, 'byte')} written`
      );
    }
  }
}

function serverJson(event: ServerEvent): string {
  switch (event.type) {
    case 'listening':
      return jsonLine(event.type, { host: event.host, port: event.port, family: event.family });
    case 'shutdown':
      return jsonLine(event.type, { reason: event.reason, signal: event.signal, clients: event.clients });
    case 'stopped':
      return jsonLine(event.type, { forced: event.forced, stats: snakeCaseKeys(event.stats) });
    case 'stats':
      return jsonLine(event.type, { stats: snakeCaseKeys(event.stats), process: snakeCaseKeys(event.process) });
    case 'metrics':
      return jsonLine(event.type, { host: event.host, port: event.port });
    case 'web':
      return jsonLine(event.type, { host: event.host, port: event.port, tls: event.tls });
    case 'process-error':
      return jsonLine(event.type, { name: event.error.name, message: event.error.message, stack: event.error.stack, recovered: event.recovered });
    case 'tls-reloaded': {
      const { subject, validTo, fingerprint } = event.certificate;
      return jsonLine(event.type, { subject, valid_until: isoSeconds(validTo), fingerprint, workers: event.workers });
    }
    case 'tls-reload-failed':
      return jsonLine(event.type, { message: event.error.message, failed: event.workers?.failed, workers: event.workers?.of });
    case 'nothing-to-reload':
      return jsonLine(event.type, {});
    default: {
      const peer = { id: event.peer.id, host: event.peer.host, port: event.peer.port };
      return jsonLine(event.type, { peer, ...peerEventFields(event) });
    }
  }
}

function peerEventFields(event: PeerEvent): Record<string, unknown> {
  switch (event.type) {
    case 'accepted':
      return { clients: event.clients };
    case 'rejected':
    case 'protocol-error':
      return { code: event.error.code, message: event.error.message };
    case 'scheduled':
      return { sleep_time: event.wait.seconds };
    case 'chunk':
      return { symbols: event.content.toString('latin1'), sleep_time: event.sleepTime, bytes: event.frameBytes, late_ms: round(event.lateMs) };
    case 'request':
      return { header: event.header, content: event.content.toString('latin1') };
    case 'statistics':
      return { count: event.count, bytes: event.frameBytes };
    case 'blocked':
      return { queued_bytes: event.queuedBytes };
    case 'unblocked':
      return { blocked_ms: round(event.blockedMs) };
    case 'peer-closed':
    case 'health-check':
      return {};
    case 'tls-error':
      return { code: event.error.code, message: event.error.message };
    case 'connection-error':
      return { code: event.error.code, message: osErrorText(event.error) };
    case 'internal-error':
      return { message: event.error.message, stack: event.error.stack };
    case 'closed':
      return {
        duration_ms: round(event.summary.durationMs),
        chunks: event.summary.chunks,
        symbols: event.summary.symbols,
        bytes_read: event.summary.bytesRead,
        bytes_written: event.summary.bytesWritten,
      };
  }
}

/** `2026-12-03T10:14:18Z`: a date to the second, in UTC. */
function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

/**
 * Text that is neither ours nor escaped as a peer's bytes are (a library's message, a
 * certificate's subject): any control character in it is written as an escape, so that
 * nothing printed can drive the terminal.
 */
function printable(text: string): string {
  return text.replace(/[^ -~\u00a0-\u2027\u202a-\uffff]/g, (char) => `\\u${(char.codePointAt(0) as number).toString(16).padStart(4, '0')}`);
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/**
 * The counters with their names in the json mode's style (`statistics_answers`); the maps
 * inside (errors by code, handles by kind) keep their keys, which are data.
 */
function snakeCaseKeys(record: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), value]));
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function metricsUrl(host: string, port: number): string {
  return `${httpBase(host, port)}/metrics`;
}

function webUrl(host: string, port: number, tls = false): string {
  return `${httpBase(host, port, tls)}/`;
}

function httpBase(host: string, port: number, tls = false): string {
  return `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * What the `shutdown` frame tells every client: `server shutting down (SIGTERM)`. The server's
 * own line names the cause alone (`shutting down: SIGTERM (2 clients connected)`), so the
 * reasons are made here, where they are read back.
 */
export function shutdownReason(cause: string): string {
  return `server shutting down (${cause})`;
}

const SHUTDOWN_REASON = /^server shutting down(?: \((.*)\))?$/;

/** The cause in a reason made by shutdownReason, '' for the bare default, else the reason as it is. */
function shutdownCause(reason: string): string {
  const match = SHUTDOWN_REASON.exec(reason);
  return match === null ? reason : (match[1] ?? '');
}

function statsText(stats: StatsSnapshot, proc: ProcessSnapshot): string {
  const mb = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MB`;
  const counts = (record: Readonly<Record<string, number>>): string =>
    Object.entries(record)
      .map(([key, value]) => `${key} ${value}`)
      .join(', ') || 'none';
  const gc = proc.heapAfterGcBytes === undefined ? '' : `, heap after GC ${mb(proc.heapAfterGcBytes)}`;
  // Only where there is TLS or a load balancer: the line stays as it was for everyone else.
  const tls = Object.keys(stats.tlsErrors).length === 0 ? '' : `TLS errors: ${counts(stats.tlsErrors)}; `;
  const checks = stats.healthChecks === 0 ? '' : `, ${plural(stats.healthChecks, 'health check')}`;
  return (
    `stats: ${stats.clients} connected, ${stats.accepted} accepted, ${stats.rejected} rejected, ${stats.closed} closed${checks}; ` +
    `${plural(stats.chunks, 'chunk')}, ${plural(stats.symbols, 'symbol')}, ${plural(stats.statisticsAnswers, 'statistics answer')}; ` +
    `errors: ${counts(stats.errors)}; socket errors: ${counts(stats.connectionErrors)}; ${tls}` +
    `rss ${mb(proc.rssBytes)}, heap ${mb(proc.heapUsedBytes)}${gc}; handles: ${counts(proc.resources)}`
  );
}

/**
 * A listener the server could not open, so the program ends before serving anyone. The server
 * only rejects its start; the command line reports it, once, with or without `--workers`.
 */
export interface ListenFailure {
  readonly type: 'listen-failed';
  /** The clients' port, the `--web` port or the `--metrics` port. */
  readonly listener: ListenerName;
  readonly host: string;
  readonly port: number;
  readonly error: NodeJS.ErrnoException;
}

/**
 * One line naming the listener and the address that failed, why in the system's words, and
 * what to do: a JSON object in json mode, else the text for the error line on stderr.
 */
export function listenFailedLine(mode: Mode, failure: ListenFailure): string {
  const { listener, host, port, error } = failure;
  if (mode === 'json') return jsonLine(failure.type, { listener, host, port, code: error.code, message: osErrorText(error) });
  const what = { server: `listen on ${addressRepr(host, port)}`, web: `serve the web client on ${webUrl(host, port)}`, metrics: `serve metrics on ${metricsUrl(host, port)}` }[listener];
  const advice = listenAdvice(failure);
  return `cannot ${what}: ${osErrorText(error)}${advice === undefined ? '' : ` (${advice})`}`;
}

function listenAdvice({ listener, host, port, error }: ListenFailure): string | undefined {
  const portOption = { server: 'port', web: '--web port', metrics: '--metrics port' }[listener];
  switch (error.code) {
    case 'EADDRINUSE':
      return `another program holds port ${port}: stop it, or choose another ${portOption}; 0 picks a free one`;
    case 'EADDRNOTAVAIL':
      return `${host} is not an address of this machine: give one it has, such as 127.0.0.1, or 0.0.0.0 for all`;
    case 'EACCES':
      return port < 1024 ? `ports below 1024 need privileges: choose a ${portOption} from 1024 up` : undefined;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name ${host} could not be resolved: check it, or give an address`;
    default:
      return undefined;
  }
}
