/**
 * One example of every event the programs print: the client's, the server's, the cluster
 * primary's, and a listener that cannot be opened. The tables are typed by event type, so a new
 * event type fails to compile until it has an example here; the line tests format every example
 * in every mode, and the json contract test holds each against docs/json.md.
 *
 * The tests assert on these values: change one, and the lines they expect change with it.
 */
import type { ClientEvent, Target } from '../../src/client/events.js';
import type { CertificateSummary } from '../../src/client/tls.js';
import type { ListenFailure } from '../../src/output/server-lines.js';
import { ContentTooLongError, ErrorCode, HeaderJsonError, ProtocolError, StatisticsInvalidError } from '../../src/protocol/errors.js';
import type { FrameHeader, MessageType } from '../../src/protocol/frame.js';
import { encodeClientRequest } from '../../src/protocol/messages.js';
import type { ClusterEvent } from '../../src/server/cluster.js';
import type { Peer, ServerEvent } from '../../src/server/events.js';
import type { ProcessSnapshot, StatsSnapshot } from '../../src/server/snapshot.js';
import { TlsHandshakeError } from '../../src/transport/tls.js';
import { serverFrame } from './frames.js';

/** One event of each type, by type. */
export type OneOfEach<E extends { readonly type: string }> = { readonly [K in E['type']]: Extract<E, { readonly type: K }> };

// ---- the client -------------------------------------------------------------------------------

/** The server the client talks to. */
export const TARGET: Target = { host: 'localhost', port: 65432 };

/** A frame that reached the client: `content` (latin1) after a wait of `sleepTime` seconds. */
export function frameEvent(content: string, sleepTime: number, messageType: MessageType = 'symbols'): OneOfEach<ClientEvent>['frame'] {
  return { type: 'frame', target: TARGET, frame: serverFrame(content, { sleep_time: sleepTime }), messageType };
}

const CERTIFICATE: CertificateSummary = {
  subject: 'localhost',
  issuer: 'multi-socket test CA',
  altNames: 'DNS:localhost, IP Address:127.0.0.1',
  validFrom: 'Jan  1 00:00:00 2020 GMT',
  validTo: 'Jan  2 00:00:00 2020 GMT',
  fingerprint256: '3A:'.repeat(31) + '3A',
};

const connReset = (): NodeJS.ErrnoException => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', errno: -104, syscall: 'read' });

export const CLIENT_EVENTS: OneOfEach<ClientEvent> = {
  starting: { type: 'starting', target: TARGET },
  connected: { type: 'connected', target: TARGET, local: '127.0.0.1:60174', remote: '127.0.0.1:65432' },
  hint: { type: 'hint' },
  key: { type: 'key', key: 's', character: true },
  frame: frameEvent('td3kk', 3),
  // Not the client's own count: debug mode flags the mismatch.
  statistics: { type: 'statistics', reported: 8, counted: 6 },
  request: { type: 'request', target: TARGET, request: Buffer.from('s'), frame: encodeClientRequest() },
  'bad-statistics': {
    type: 'bad-statistics',
    error: new StatisticsInvalidError(Buffer.from('Statistics: lots'), "statistics answer not in the form 'Statistics: N symbols was delivered'"),
    counted: 3,
  },
  'server-error': { type: 'server-error', reason: Buffer.from('ERR_SERVER_FULL: server full (2 clients)') },
  shutdown: { type: 'shutdown', reason: Buffer.from('server shutting down (SIGINT)') },
  'peer-closed': { type: 'peer-closed' },
  'protocol-error': { type: 'protocol-error', error: new ContentTooLongError(5_000_000, 1_048_576) },
  'connection-error': { type: 'connection-error', error: connReset() },
  'connect-failed': {
    type: 'connect-failed',
    target: TARGET,
    error: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:65432'), { code: 'ECONNREFUSED', errno: -111, syscall: 'connect' }),
  },
  'tls-untrusted': { type: 'tls-untrusted', target: TARGET, name: 'localhost', code: 'CERT_HAS_EXPIRED', certificate: CERTIFICATE },
  'tls-failed': {
    type: 'tls-failed',
    target: TARGET,
    error: Object.assign(new Error('tlsv13 alert certificate required'), { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', reason: 'tlsv13 alert certificate required' }),
  },
  'tls-insecure': { type: 'tls-insecure', target: TARGET, name: 'localhost', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', certificate: CERTIFICATE },
  reconnecting: { type: 'reconnecting', target: TARGET, attempt: 2, attempts: 0, delayMs: 1300 },
  'idle-timeout': { type: 'idle-timeout', target: TARGET, seconds: 30, connected: true },
  'not-connected': { type: 'not-connected', target: TARGET, requests: 1, everConnected: false },
  closing: { type: 'closing', target: TARGET },
};

// ---- the server -------------------------------------------------------------------------------

/** The client every server example is about. */
export const PEER: Peer = { id: 1, host: '127.0.0.1', port: 60174, family: 'IPv4' };

/** The header of a statistics request. */
export const REQUEST_HEADER = {
  byteorder: 'little',
  'content-type': 'binary/custom-client-binary-type',
  'content-encoding': 'binary',
  'content-length': 1,
} as FrameHeader;

/** Every counter above zero and every map filled, so that every field and every part of a line shows. */
export const STATS: StatsSnapshot = {
  clients: 2,
  accepted: 5,
  rejected: 1,
  closed: 3,
  chunks: 40,
  symbols: 120,
  statisticsAnswers: 4,
  blocked: 1,
  errors: { ERR_HEADER_JSON: 1, ERR_SERVER_FULL: 1 },
  connectionErrors: { ECONNRESET: 1 },
  internalErrors: 0,
  healthChecks: 2,
  tlsErrors: { ERR_TLS_HANDSHAKE_TIMEOUT: 1 },
};

/** Every optional field given, so that every field shows. */
export const PROCESS: ProcessSnapshot = { rssBytes: 52_428_800, heapUsedBytes: 10_485_760, heapAfterGcBytes: 8_388_608, resources: { TCPSocketWrap: 3, Timeout: 1 } };

/** A chunk sent to `peer`: `content` (latin1) after a wait of `sleepTime` seconds. */
export function chunkEvent(content: string, sleepTime: number, peer: Peer = PEER): OneOfEach<ServerEvent>['chunk'] {
  return { type: 'chunk', peer, content: Buffer.from(content, 'latin1'), sleepTime, frameBytes: 150, lateMs: 0.42 };
}

/** As one server prints them; with `--workers`, the reload events also say how many workers. */
export const SERVER_EVENTS: OneOfEach<ServerEvent> = {
  listening: { type: 'listening', host: 'localhost', port: 65432, family: 'IPv4' },
  metrics: { type: 'metrics', host: '127.0.0.1', port: 9464 },
  web: { type: 'web', host: '127.0.0.1', port: 8080, tls: false },
  accepted: { type: 'accepted', peer: PEER, clients: 1 },
  rejected: { type: 'rejected', peer: PEER, error: new ProtocolError(ErrorCode.serverFull, 'server full (10000 clients)') },
  scheduled: { type: 'scheduled', peer: PEER, wait: { ms: 3000, seconds: 3 } },
  chunk: chunkEvent('td3kk', 3),
  request: { type: 'request', peer: PEER, header: REQUEST_HEADER, content: Buffer.from('s') },
  statistics: { type: 'statistics', peer: PEER, count: 8, content: Buffer.from('Statistics: 8 symbols was delivered'), frameBytes: 181 },
  'protocol-error': { type: 'protocol-error', peer: PEER, error: new HeaderJsonError(new SyntaxError('bad')) },
  blocked: { type: 'blocked', peer: PEER, queuedBytes: 65_536 },
  unblocked: { type: 'unblocked', peer: PEER, blockedMs: 12.5 },
  'peer-closed': { type: 'peer-closed', peer: PEER },
  'connection-error': { type: 'connection-error', peer: PEER, error: connReset() },
  'internal-error': { type: 'internal-error', peer: PEER, error: new TypeError('a fault of ours') },
  closed: { type: 'closed', peer: PEER, summary: { durationMs: 12_345, chunks: 3, symbols: 8, bytesRead: 128, bytesWritten: 631 } },
  shutdown: { type: 'shutdown', reason: 'server shutting down (SIGTERM)', signal: 'SIGTERM', clients: 2 },
  'process-error': { type: 'process-error', error: new RangeError('nobody caught this'), recovered: true },
  stats: { type: 'stats', stats: STATS, process: PROCESS },
  stopped: { type: 'stopped', forced: 1, stats: STATS },
  'health-check': { type: 'health-check', peer: PEER },
  'tls-error': { type: 'tls-error', peer: PEER, error: new TlsHandshakeError('ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number') },
  'tls-reloaded': { type: 'tls-reloaded', certificate: { subject: 'CN=localhost', validTo: new Date('2027-01-01T12:30:00.000Z'), fingerprint: 'AB:CD' } },
  'tls-reload-failed': { type: 'tls-reload-failed', error: new Error("cannot read --tls-key 'key.pem': no such file or directory (ENOENT)") },
  'nothing-to-reload': { type: 'nothing-to-reload' },
};

export const CLUSTER_EVENTS: OneOfEach<ClusterEvent> = {
  'worker-listening': { type: 'worker-listening', worker: 1, pid: 4242, replacement: false },
  'worker-died': { type: 'worker-died', worker: 1, pid: 4242, cause: 'SIGKILL', replaced: true },
  'crash-loop': { type: 'crash-loop', deaths: 6, withinMs: 10_000 },
};

/** The server's own port taken by another program. */
export const LISTEN_FAILED: ListenFailure = {
  type: 'listen-failed',
  listener: 'server',
  host: '127.0.0.1',
  port: 8000,
  error: Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:8000'), { code: 'EADDRINUSE' }),
};
