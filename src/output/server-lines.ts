import type { Peer, ServerEvent } from '../server/events.js';
import type { ProcessSnapshot, StatsSnapshot } from '../server/snapshot.js';

/** The events about one connection. */
type PeerEvent = Extract<ServerEvent, { readonly peer: Peer }>;
import { jsonLine } from './json-line.js';
import type { Mode } from './mode.js';
import { addressLabel, addressRepr, bytesRepr, osErrorText, sleepyLine } from './python-repr.js';

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
    case 'shutdown':
      return `shutting down: ${event.reason} (${event.clients} ${event.clients === 1 ? 'client' : 'clients'} connected)`;
    case 'stopped':
      return event.forced === 0 ? 'stopped' : `stopped (${event.forced} slow ${event.forced === 1 ? 'client' : 'clients'} cut off)`;
    case 'stats':
      return statsText(event.stats, event.process);
    case 'metrics':
      return `metrics on http://${event.host.includes(':') ? `[${event.host}]` : event.host}:${event.port}/metrics`;
    case 'web':
      return `web client on http://${event.host.includes(':') ? `[${event.host}]` : event.host}:${event.port}/`;
    case 'process-error':
      return `error: unexpected ${event.error.name}: ${event.error.message} (${event.recovered ? 'server carries on' : 'shutting down'})`;
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
      return `${time} ${quietLine(event) ?? ''}`;
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
      return `rejected: ${event.error.code}: ${event.error.message}`;
    case 'scheduled':
      return `next chunk in ${event.wait.seconds} s`;
    case 'chunk':
      return `${sleepyLine(event.sleepTime)} (late ${event.lateMs.toFixed(2)} ms), sending ${bytesRepr(event.content)}: ${event.content.length} symbols, ${event.frameBytes} bytes`;
    case 'request':
      return `received ${String(event.header['content-type'])} request ${bytesRepr(event.content)}, header ${JSON.stringify(event.header)}`;
    case 'statistics':
      return `sending ${bytesRepr(event.content)}: ${event.frameBytes} bytes, counter reset`;
    case 'protocol-error':
      return `error ${event.error.code}: ${event.error.message}`;
    case 'blocked':
      return `socket buffer full (${event.queuedBytes} bytes queued): chunks and reading paused`;
    case 'unblocked':
      return `socket drained after ${event.blockedMs.toFixed(1)} ms: chunks and reading resumed`;
    case 'peer-closed':
      return 'error: Peer closed';
    case 'connection-error':
      return `error: ${osErrorText(event.error)} (${event.error.code ?? 'no code'})`;
    case 'internal-error':
      return `internal error, connection dropped: ${event.error.stack ?? event.error.message}`;
    case 'closed': {
      const s = event.summary;
      return `closing connection after ${(s.durationMs / 1000).toFixed(3)} s: ${s.chunks} chunks, ${s.symbols} symbols, ${s.bytesRead} bytes read, ${s.bytesWritten} bytes written`;
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
      return jsonLine(event.type, { forced: event.forced, stats: event.stats });
    case 'stats':
      return jsonLine(event.type, { stats: event.stats, process: event.process });
    case 'metrics':
    case 'web':
      return jsonLine(event.type, { host: event.host, port: event.port });
    case 'process-error':
      return jsonLine(event.type, { name: event.error.name, message: event.error.message, stack: event.error.stack, recovered: event.recovered });
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
      return {};
    case 'connection-error':
      return { code: event.error.code, message: event.error.message };
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

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function statsText(stats: StatsSnapshot, proc: ProcessSnapshot): string {
  const mb = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MB`;
  const counts = (record: Readonly<Record<string, number>>): string =>
    Object.entries(record)
      .map(([key, value]) => `${key} ${value}`)
      .join(', ') || 'none';
  const gc = proc.heapAfterGcBytes === undefined ? '' : `, heap after GC ${mb(proc.heapAfterGcBytes)}`;
  return (
    `stats: ${stats.clients} connected, ${stats.accepted} accepted, ${stats.rejected} rejected, ${stats.closed} closed; ` +
    `${stats.chunks} chunks, ${stats.symbols} symbols, ${stats.statisticsAnswers} answers; ` +
    `errors: ${counts(stats.errors)}; socket errors: ${counts(stats.connectionErrors)}; ` +
    `rss ${mb(proc.rssBytes)}, heap ${mb(proc.heapUsedBytes)}${gc}; handles: ${counts(proc.resources)}`
  );
}
