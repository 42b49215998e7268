/**
 * Fault tolerance: hostile and abrupt peers against one real server while well-behaved
 * bystanders are watched the whole time.
 *
 * What "nothing noticed" means here, checked after every hostile run:
 * - each bystander saw no gap between chunks beyond the schedule's longest wait plus a
 *   tolerance, no error frame, and every statistics answer equal to what it received;
 * - every hostile connection the server accepted was closed exactly once, answered as the
 *   protocol says, and counted under the right error code;
 * - the server is back to the bystanders alone, and this process holds as many sockets, timers
 *   and immediates as before the run: no session left anything behind.
 *
 * The random streams come from a seeded generator; the seed is printed as a test diagnostic,
 * and FAULTS_SEED=<n> replays a run.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { addressLabel } from '../../src/output/python-repr.js';
import { setImmediate } from 'node:timers/promises';
import { FrameDecoder } from '../../src/protocol/decoder.js';
import { ErrorCode, ProtocolError } from '../../src/protocol/errors.js';
import { CLIENT_HEADER_KEYS, MessageType } from '../../src/protocol/frame.js';
import { encodeClientRequest, isStatisticsRequest } from '../../src/protocol/messages.js';
import type { ServerConfig } from '../../src/server/config.js';
import type { Peer, SessionSummary } from '../../src/server/events.js';
import type { StatsSnapshot } from '../../src/server/snapshot.js';
import { rawFrame } from '../support/frames.js';
import { mutate, piecesOf, splitPoints, validRequests } from '../support/hostile.js';
import { TestServer, type RawClient } from '../support/net.js';
import { ChildProc, killAll } from '../support/process.js';
import { Random } from '../support/random.js';
import { withTimeout } from '../support/wait.js';

/** Seconds between chunks: short, so that a stalled bystander shows within a fraction of a second. */
const INTERVAL = { min: 0.02, max: 0.06 } as const;
/**
 * What a chunk may be late on top of its wait. Server and clients share this process's event
 * loop, which a few hundred connections opening and dying at once keep busy; a bystander held
 * up by another connection's handling would be late by far more.
 */
const GAP_TOLERANCE_MS = 250;
const BYSTANDERS = 3;
/** Far beyond every run here: no connection may be cut for being slow, only for what it sent. */
const FRAME_TIMEOUT_MS = 30_000;
/** Safety net for waits that cover a whole hostile run. */
const RUN_TIMEOUT_MS = 10_000;

const REQUEST = encodeClientRequest('s');
const HALF = REQUEST.subarray(0, Math.floor(REQUEST.length / 2));

const SEED = process.env['FAULTS_SEED'] === undefined ? Date.now() >>> 0 : Number(process.env['FAULTS_SEED']);

// ---- small tools ------------------------------------------------------------------------------

/** Handles and requests this process holds that a leaking session would add to. */
const WATCHED_RESOURCES = ['TCPSocketWrap', 'Timeout', 'Immediate'] as const;

function resourceCounts(): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(WATCHED_RESOURCES.map((kind) => [kind, 0]));
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind in counts) counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

function countDelta(after: Readonly<Record<string, number>>, before: Readonly<Record<string, number>>): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const key of new Set([...Object.keys(after), ...Object.keys(before)])) {
    const n = (after[key] ?? 0) - (before[key] ?? 0);
    if (n !== 0) delta[key] = n;
  }
  return delta;
}

function bump(counts: Record<string, number>, key: string, n = 1): void {
  if (n > 0) counts[key] = (counts[key] ?? 0) + n;
}

const VALID_FIELDS = `"byteorder": "little", "content-type": "binary/custom-client-binary-type", "content-encoding": "binary"`;

// ---- the bystanders ---------------------------------------------------------------------------

/**
 * Well-behaved clients that stay connected through a hostile run. While the run lasts each
 * keeps asking for statistics, once a new chunk has arrived since its previous answer.
 */
class Bystanders {
  readonly clients: readonly RawClient[];
  readonly #server: TestServer;
  #asking = false;
  #loops: Promise<void>[] = [];

  private constructor(server: TestServer, clients: readonly RawClient[]) {
    this.#server = server;
    this.clients = clients;
  }

  /** Connects them and waits until each has its first chunk. */
  static async connect(server: TestServer): Promise<Bystanders> {
    const clients = await Promise.all(Array.from({ length: BYSTANDERS }, () => server.connect()));
    await Promise.all(clients.map((client) => client.nextFrame(MessageType.symbols)));
    return new Bystanders(server, clients);
  }

  /** Statistics answers the bystanders have received so far. */
  get answers(): number {
    return this.clients.reduce((sum, client) => sum + client.answers.length, 0);
  }

  startAsking(): void {
    this.#asking = true;
    this.#loops = this.clients.map((client) => this.#ask(client));
  }

  /** Ends the asking and waits for the last answers: afterwards no wait of theirs is pending. */
  async stopAsking(): Promise<void> {
    this.#asking = false;
    await Promise.all(this.#loops);
  }

  async #ask(client: RawClient): Promise<void> {
    while (this.#asking) {
      client.clearQueue();
      await client.nextFrame(MessageType.symbols);
      await client.statistics();
    }
  }

  /** Each gets one more chunk and one more exact answer; then everything they saw is checked. */
  async check(): Promise<void> {
    for (const client of this.clients) {
      client.clearQueue();
      await client.nextFrame(MessageType.symbols);
      const answer = await client.statistics();
      assert.ok(answer.count > 0, `${client.label}: the last answer counts the chunk just received`);
      this.#checkClient(client);
    }
  }

  #checkClient(client: RawClient): void {
    const { label } = client;
    assert.equal(client.isClosed, false, `${label} is still connected`);
    assert.equal(client.decodeError, undefined, `${label} decoded every frame`);
    const odd = client.history.filter((frame) => frame.type !== MessageType.symbols && frame.type !== MessageType.statistics);
    assert.deepEqual(odd.map((frame) => frame.content.toString('latin1')), [], `${label} got no error or shutdown frame`);
    for (const type of ['protocol-error', 'connection-error', 'internal-error', 'peer-closed'] as const) {
      assert.equal(this.#server.eventsOf(type, client).length, 0, `${label}: no ${type} on the server`);
    }

    const chunks = client.history.filter((frame) => frame.type === MessageType.symbols);
    let worst = 0;
    for (let i = 1; i < chunks.length; i++) worst = Math.max(worst, (chunks[i]?.at ?? 0) - (chunks[i - 1]?.at ?? 0));
    const allowed = INTERVAL.max * 1000 + GAP_TOLERANCE_MS;
    assert.ok(worst <= allowed, `${label}: a gap of ${worst.toFixed(0)} ms between chunks (allowed ${allowed} ms, ${chunks.length} chunks)`);

    assert.ok(client.answers.length >= 2, `${label}: asked for statistics throughout (${client.answers.length} answers)`);
    client.answers.forEach((answer, n) => {
      assert.equal(answer.count, answer.receivedSinceLast, `${label}: answer #${n + 1} says ${answer.count}, received ${answer.receivedSinceLast}`);
    });
    const reported = this.#server.eventsOf('statistics', client).map((event) => event.count);
    assert.deepEqual(reported, client.answers.map((answer) => answer.count), `${label}: the answers are the ones the server sent, in order`);
  }
}

// ---- the hostile connections, seen from the server ---------------------------------------------

interface PeerRecord {
  readonly peer: Peer;
  closed: SessionSummary[];
  readonly errors: string[];
  readonly connectionErrors: string[];
  peerClosed: number;
  internalErrors: number;
}

/** Follows, from the server's events, every connection accepted from now on. */
class PeerTracker {
  readonly peers = new Map<number, PeerRecord>();
  readonly #stop: () => void;
  #onChange: (() => void) | undefined;

  constructor(server: TestServer) {
    this.#stop = server.onEvent((event) => {
      if (event.type === 'accepted') {
        this.peers.set(event.peer.id, { peer: event.peer, closed: [], errors: [], connectionErrors: [], peerClosed: 0, internalErrors: 0 });
        return;
      }
      if (!('peer' in event)) return;
      const record = this.peers.get(event.peer.id);
      if (record === undefined) return;
      if (event.type === 'closed') record.closed.push(event.summary);
      else if (event.type === 'protocol-error') record.errors.push(event.error.code);
      else if (event.type === 'connection-error') record.connectionErrors.push(event.error.code ?? 'unknown');
      else if (event.type === 'peer-closed') record.peerClosed++;
      else if (event.type === 'internal-error') record.internalErrors++;
      else return;
      this.#onChange?.();
    });
  }

  /** Every connection closed exactly once, with no fault of ours and no socket error but a peer's. */
  checkAllClosed(describePeer: (record: PeerRecord) => string): void {
    for (const record of this.peers.values()) {
      const what = `${addressLabel(record.peer)} (${describePeer(record)})`;
      assert.equal(record.closed.length, 1, `${what} closed once`);
      assert.equal(record.internalErrors, 0, `${what}: no internal error`);
      // A reset, or a write after the peer's FIN: both the peer's doing.
      for (const code of record.connectionErrors) assert.ok(code === 'ECONNRESET' || code === 'EPIPE', `${what}: socket error ${code}`);
    }
  }

  /** The record of the connection whose client end has this port. */
  byPort(port: number): PeerRecord | undefined {
    for (const record of this.peers.values()) if (record.peer.port === port) return record;
    return undefined;
  }

  get closedCount(): number {
    let n = 0;
    for (const record of this.peers.values()) if (record.closed.length > 0) n++;
    return n;
  }

  /** Resolves once `count` connections were accepted and every one of them has closed. */
  async settled(count: number): Promise<void> {
    const done = (): boolean => this.peers.size === count && this.closedCount === count;
    if (!done()) {
      await withTimeout(
        new Promise<void>((resolve) => {
          this.#onChange = () => {
            if (done()) resolve();
          };
        }),
        RUN_TIMEOUT_MS,
        `the server to accept and close ${count} hostile connections (accepted ${this.peers.size}, closed ${this.closedCount})`,
      ).finally(() => (this.#onChange = undefined));
    }
    this.#stop();
  }
}

/** The server's counters from `before` to `after`, as differences. */
function statsDelta(after: StatsSnapshot, before: StatsSnapshot): Record<string, unknown> {
  return {
    clients: after.clients,
    accepted: after.accepted - before.accepted,
    rejected: after.rejected - before.rejected,
    closed: after.closed - before.closed,
    statisticsAnswers: after.statisticsAnswers - before.statisticsAnswers,
    internalErrors: after.internalErrors - before.internalErrors,
    errors: countDelta(after.errors, before.errors),
  };
}

// ---- 1: resets and kills mid-frame ------------------------------------------------------------

/** A peer process with `count` connections, each holding half a frame, until it is SIGKILLed. */
const KILLED_PEER_SCRIPT = `
import { connect } from 'node:net';
const [port, count, hex] = process.argv.slice(1);
const bytes = Buffer.from(hex, 'hex');
const ports = [];
for (let i = 0; i < Number(count); i++) {
  const socket = connect({ host: '127.0.0.1', port: Number(port) });
  socket.on('error', () => undefined);
  socket.once('connect', () => socket.write(bytes));
  let seen = '';
  // The answer to the whole request that precedes the half one shows the server has read both.
  socket.on('data', function onData(data) {
    seen += data.toString('latin1');
    if (!seen.includes('Statistics: ')) return;
    socket.off('data', onData);
    ports.push(socket.localPort);
    if (ports.length === Number(count)) process.stdout.write('ready ' + ports.join(',') + '\\n');
  });
}
setInterval(() => undefined, 60_000);
`;

type AbruptKind = 'half-then-reset' | 'connect-then-destroy' | 'half-then-end' | 'half-then-destroy' | 'connect-then-reset';

/** Half of the connections reset mid-frame; the rest leave in each of the other ways. */
function abruptKind(n: number): AbruptKind {
  if (n % 2 === 0) return 'half-then-reset';
  const others: readonly AbruptKind[] = ['connect-then-destroy', 'half-then-end', 'half-then-destroy', 'connect-then-reset'];
  return others[((n - 1) / 2) % others.length] as AbruptKind;
}

/** Runs one abrupt peer to its end; resolves once its socket has closed on our side. */
async function abruptPeer(server: TestServer, kind: AbruptKind): Promise<RawClient> {
  const client = await server.connect();
  switch (kind) {
    case 'half-then-reset':
      // A whole request, then half of one in the same write: once the answer is here, the server
      // has read the half too, so the reset lands mid-frame for certain.
      await client.write(Buffer.concat([REQUEST, HALF]));
      await client.awaitAnswers(1);
      client.reset();
      break;
    case 'connect-then-destroy':
      client.destroy();
      break;
    case 'half-then-end':
      await client.write(HALF);
      client.end();
      break;
    case 'half-then-destroy':
      await client.write(HALF);
      client.destroy();
      break;
    case 'connect-then-reset':
      client.reset();
      break;
  }
  await client.waitClosed(RUN_TIMEOUT_MS);
  return client;
}

void describe('peers that reset, vanish or are killed mid-frame, 220 times over', () => {
  const ABRUPT = 200;
  const WAVE = 25;
  const KILLED = 20;
  let server: TestServer;
  let bystanders: Bystanders;
  before(async () => {
    server = await TestServer.start({ interval: INTERVAL, frameTimeoutMs: FRAME_TIMEOUT_MS }, { unrecorded: ['chunk', 'scheduled'] });
    bystanders = await Bystanders.connect(server);
  });
  after(async () => {
    await killAll();
    await server.stop();
  });

  void it('leaves no session, timer or socket behind, and the bystanders undisturbed', async () => {
    const statsBefore = server.server.stats();
    const answersBefore = bystanders.answers;
    const resourcesBefore = resourceCounts();
    const tracker = new PeerTracker(server);
    const startedAt = performance.now();
    bystanders.startAsking();

    const kinds = new Map<number, AbruptKind>();
    for (let wave = 0; wave < ABRUPT; wave += WAVE) {
      const batch = Array.from({ length: Math.min(WAVE, ABRUPT - wave) }, (_, i) => abruptKind(wave + i));
      const clients = await Promise.all(batch.map((kind) => abruptPeer(server, kind)));
      clients.forEach((client, i) => kinds.set(client.localPort, batch[i] as AbruptKind));
    }

    // A real process killed with every one of its connections mid-frame.
    const killed = new ChildProc('killed peer', process.execPath, [
      '--input-type=module',
      '-e',
      KILLED_PEER_SCRIPT,
      String(server.port),
      String(KILLED),
      Buffer.concat([REQUEST, HALF]).toString('hex'),
    ]);
    const [readyLine] = await killed.waitForLine(/^ready [\d,]+$/);
    const killedPorts = (readyLine ?? '').slice('ready '.length).split(',').map(Number);
    killed.kill('SIGKILL');
    assert.deepEqual(await killed.waitForExit(), { code: null, signal: 'SIGKILL' });

    await tracker.settled(ABRUPT + KILLED);
    await bystanders.stopAsking();
    const hostileMs = performance.now() - startedAt;

    // Every accepted connection closed once, for the reason its peer gave, and no other.
    const kindOf = (record: PeerRecord): string =>
      kinds.get(record.peer.port) ?? (killedPorts.includes(record.peer.port) ? 'killed' : `reset before it was accepted`);
    tracker.checkAllClosed(kindOf);
    for (const record of tracker.peers.values()) {
      const label = addressLabel(record.peer);
      const kind = kindOf(record);
      assert.deepEqual(record.errors, [], `${label} (${kind}): no protocol error`);
      const summary = record.closed[0] as SessionSummary;
      if (kind === 'half-then-reset' || kind === 'killed') {
        assert.equal(summary.bytesRead, REQUEST.length + HALF.length, `${label} (${kind}) was mid-frame`);
      } else if (kind === 'half-then-end') {
        assert.equal(summary.bytesRead, HALF.length, `${label} (${kind}) was mid-frame`);
        assert.equal(record.peerClosed, 1, `${label} (${kind}): its end of stream was reported`);
      }
    }
    assert.equal(kinds.size, ABRUPT, 'every abrupt peer had its own port');
    assert.equal(killedPorts.length, KILLED);
    for (const port of killedPorts) assert.ok(tracker.byPort(port) !== undefined, `the killed peer's connection from port ${port} was accepted`);

    assert.equal(server.server.clients, BYSTANDERS);
    assert.deepEqual(statsDelta(server.server.stats(), statsBefore), {
      clients: BYSTANDERS,
      accepted: ABRUPT + KILLED,
      rejected: 0,
      closed: ABRUPT + KILLED,
      // One answer to each peer that sent a whole request before its half one.
      statisticsAnswers: ABRUPT / 2 + KILLED + bystanders.answers - answersBefore,
      internalErrors: 0,
      errors: {},
    });
    assert.deepEqual(resourceCounts(), resourcesBefore, 'as many sockets, timers and immediates as before the run');

    await bystanders.check();
    assert.ok(hostileMs < RUN_TIMEOUT_MS, `the run took ${hostileMs.toFixed(0)} ms`);
  });
});

// ---- 2: a hostile mix in parallel -------------------------------------------------------------

/** What the protocol says the server does with a byte stream: the server's own decoder as oracle. */
interface Verdict {
  /** Statistics requests answered before the stream breaks (or ends). */
  readonly answers: number;
  /** Well-formed requests other than `s`: each gets an ERR_UNKNOWN_REQUEST frame, the connection stays. */
  readonly unknown: number;
  /** The fatal error that closes the connection, if any. */
  readonly error: string | undefined;
}

function verdictOf(bytes: Buffer, config: ServerConfig): Verdict {
  const decoder = new FrameDecoder({
    maxHeaderLength: config.maxHeaderLength,
    maxContentLength: config.maxRequestLength,
    requiredKeys: CLIENT_HEADER_KEYS,
  });
  let answers = 0;
  let unknown = 0;
  try {
    decoder.push(bytes, (frame) => {
      if (isStatisticsRequest(frame)) answers++;
      else unknown++;
    });
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    return { answers, unknown, error: error.code };
  }
  return { answers, unknown, error: undefined };
}

interface Hostile {
  readonly name: string;
  readonly bytes: Buffer;
  /** Where the stream is cut into separate writes (offsets, ascending). */
  readonly splits?: readonly number[];
  /** What the case is about, where it is known without the oracle. */
  readonly expected?: Partial<Verdict>;
  /** How the peer leaves once everything is written: `end` unless the server closes first. */
  readonly leave?: 'reset';
}

function hostileMix(random: Random): Hostile[] {
  const hostiles: Hostile[] = [
    { name: 'header length 0xffff', bytes: Buffer.from([0xff, 0xff]), expected: { error: ErrorCode.headerTooLong } },
    {
      name: 'content-length 2^30',
      bytes: rawFrame(`{${VALID_FIELDS}, "content-length": ${2 ** 30}}`),
      expected: { error: ErrorCode.contentTooLong },
    },
    { name: 'bad JSON', bytes: rawFrame(`{${VALID_FIELDS}, "content-length": 1,}`, Buffer.from('s')), expected: { error: ErrorCode.headerJson } },
    {
      name: '__proto__ key',
      bytes: rawFrame(`{"__proto__": {"polluted": true}, ${VALID_FIELDS}, "content-length": 1}`, Buffer.from('s')),
      expected: { error: ErrorCode.headerForbiddenKey },
    },
    {
      name: 'deep nesting',
      bytes: rawFrame(`{"x": ${'['.repeat(400)}${']'.repeat(400)}, ${VALID_FIELDS}, "content-length": 1}`, Buffer.from('s')),
      expected: { error: ErrorCode.headerInvalidValue },
    },
    {
      name: 'invalid UTF-8 in the header',
      bytes: rawFrame(Buffer.concat([Buffer.from('{"x": "'), Buffer.from([0xc0, 0xaf]), Buffer.from(`", ${VALID_FIELDS}, "content-length": 0}`)])),
      expected: { error: ErrorCode.headerEncoding },
    },
    {
      name: 'valid requests, then a header that is an array, in one write',
      bytes: Buffer.concat([REQUEST, REQUEST, rawFrame('[]')]),
      expected: { answers: 2, error: ErrorCode.headerNotObject },
    },
    {
      name: 'unknown requests between statistics requests',
      bytes: Buffer.concat([encodeClientRequest('x'), REQUEST, encodeClientRequest('hello'), REQUEST]),
      splits: [7, 40],
      expected: { answers: 2, unknown: 2, error: undefined },
    },
    {
      name: '100 requests in one write, then end',
      bytes: Buffer.concat(Array.from({ length: 100 }, () => REQUEST)),
      expected: { answers: 100, unknown: 0, error: undefined },
    },
    { name: '100 requests in one write, then reset', bytes: Buffer.concat(Array.from({ length: 100 }, () => REQUEST)), leave: 'reset' },
  ];
  for (let i = 0; i < 20; i++) {
    const bytes = random.bytes(random.int(1, 300));
    hostiles.push({ name: `random bytes #${i}`, bytes, splits: splitPoints(bytes.length, random) });
  }
  for (let i = 0; i < 20; i++) {
    // A small length prefix, so that the random bytes reach the JSON parser.
    const body = random.bytes(random.int(1, 120));
    const bytes = Buffer.concat([Buffer.from([0, random.int(0, body.length)]), body]);
    hostiles.push({ name: `random header #${i}`, bytes, splits: splitPoints(bytes.length, random) });
  }
  for (let i = 0; i < 40; i++) {
    const bytes = mutate(validRequests(random), random);
    hostiles.push({ name: `mutated requests #${i}`, bytes, splits: splitPoints(bytes.length, random) });
  }
  return hostiles;
}

interface HostileOutcome {
  readonly hostile: Hostile;
  readonly verdict: Verdict;
  readonly client: RawClient;
}

async function runHostile(server: TestServer, hostile: Hostile): Promise<HostileOutcome> {
  const verdict = verdictOf(hostile.bytes, server.config);
  const client = await server.connect();
  for (const piece of piecesOf(hostile.bytes, hostile.splits ?? [])) {
    if (piece.length === 0) continue;
    // Once the server has closed on a fatal error, the rest of the stream has nowhere to go.
    if (client.endedByPeer || client.isClosed) break;
    await client.write(piece).catch((error: Error) => {
      if (verdict.error === undefined) throw error;
    });
    // A turn of the loop between pieces, so that they tend to reach the server as separate reads.
    await setImmediate();
  }
  if (hostile.leave === 'reset') client.reset();
  else if (verdict.error === undefined) client.end();
  // With a fatal error the server must close on its own: the peer never ends its side first.
  await client.waitClosed(RUN_TIMEOUT_MS);
  return { hostile, verdict, client };
}

/** Checks one hostile connection against its verdict; returns its error codes as the server counted them. */
function checkHostile(server: TestServer, { hostile, verdict, client }: HostileOutcome): string[] {
  const what = `${hostile.name} (${hostile.bytes.toString('hex').slice(0, 120)}, split at ${String(hostile.splits ?? [])}, seed ${SEED})`;
  for (const [key, value] of Object.entries(hostile.expected ?? {})) {
    assert.equal(verdict[key as keyof Verdict], value, `${what}: the case is what it claims to be (${key})`);
  }
  assert.equal(client.decodeError, undefined, `${what}: every server frame decodes`);
  for (const answer of client.answers) assert.equal(answer.count, answer.receivedSinceLast, `${what}: an exact answer`);
  // A peer that resets before the server looks at it leaves no address to match events by; the
  // tracker still sees its connection accepted and closed once.
  if (hostile.leave === 'reset') return [];

  assert.equal(server.eventsOf('closed', client).length, 1, `${what}: closed once on the server`);
  const codes = server.eventsOf('protocol-error', client).map((event) => event.error.code);

  const expectedCodes = [...Array.from({ length: verdict.unknown }, () => ErrorCode.unknownRequest as string)];
  if (verdict.error !== undefined) expectedCodes.push(verdict.error);
  assert.deepEqual(codes, expectedCodes, `${what}: the server's errors`);
  const errorFrames = client.history.filter((frame) => frame.type === MessageType.error);
  assert.deepEqual(
    errorFrames.map((frame) => frame.content.toString('latin1').split(':')[0]),
    expectedCodes,
    `${what}: an error frame for each, in order`,
  );
  assert.equal(client.answers.length, verdict.answers, `${what}: answered requests`);
  assert.equal(server.eventsOf('statistics', client).length, verdict.answers, `${what}: answers sent`);
  assert.ok(client.endedByPeer, `${what}: the server ended the connection`);
  if (verdict.error !== undefined) {
    assert.equal(client.history.at(-1), errorFrames.at(-1), `${what}: the fatal error frame is the last frame`);
    assert.equal(server.eventsOf('peer-closed', client).length, 0, `${what}: closed by the server, not by the peer`);
  } else {
    assert.equal(server.eventsOf('peer-closed', client).length, 1, `${what}: closed when the peer ended`);
  }
  return codes;
}

void describe('a hostile mix in parallel', () => {
  let server: TestServer;
  let bystanders: Bystanders;
  before(async () => {
    server = await TestServer.start({ interval: INTERVAL, frameTimeoutMs: FRAME_TIMEOUT_MS }, { unrecorded: ['scheduled'] });
    bystanders = await Bystanders.connect(server);
  });
  after(() => server.stop());

  void it('answers or closes each as the protocol says, counts every error by its code, and disturbs no bystander', async (t) => {
    t.diagnostic(`seed ${SEED} (FAULTS_SEED=${SEED} replays it)`);
    const hostiles = hostileMix(new Random(SEED));
    const statsBefore = server.server.stats();
    const answersBefore = bystanders.answers;
    const resourcesBefore = resourceCounts();
    const tracker = new PeerTracker(server);
    bystanders.startAsking();

    const outcomes = await Promise.all(hostiles.map((hostile) => runHostile(server, hostile)));
    await tracker.settled(hostiles.length);
    await bystanders.stopAsking();

    tracker.checkAllClosed(() => 'hostile');
    const expectedErrors: Record<string, number> = {};
    let hostileAnswers = 0;
    let resetRequests = 0;
    for (const outcome of outcomes) {
      for (const code of checkHostile(server, outcome)) bump(expectedErrors, code);
      if (outcome.hostile.leave === 'reset') resetRequests += outcome.verdict.answers;
      else hostileAnswers += outcome.verdict.answers;
    }
    // The mix exercised every error a request can cause.
    for (const code of [
      ErrorCode.headerTooLong,
      ErrorCode.headerEncoding,
      ErrorCode.headerJson,
      ErrorCode.headerNotObject,
      ErrorCode.headerForbiddenKey,
      ErrorCode.headerInvalidValue,
      ErrorCode.contentTooLong,
      ErrorCode.unknownRequest,
    ]) {
      assert.ok((expectedErrors[code] ?? 0) > 0, `the mix caused ${code}`);
    }

    assert.equal(server.server.clients, BYSTANDERS);
    const delta = statsDelta(server.server.stats(), statsBefore);
    // Requests from a peer that resets are answered only as far as the server read them first.
    const answeredBeforeReset = (delta['statisticsAnswers'] as number) - hostileAnswers - (bystanders.answers - answersBefore);
    assert.ok(answeredBeforeReset >= 0 && answeredBeforeReset <= resetRequests, `${answeredBeforeReset} answers to peers that reset`);
    assert.deepEqual(delta, {
      clients: BYSTANDERS,
      accepted: hostiles.length,
      rejected: 0,
      closed: hostiles.length,
      statisticsAnswers: delta['statisticsAnswers'],
      internalErrors: 0,
      errors: expectedErrors,
    });
    assert.deepEqual(resourceCounts(), resourcesBefore, 'as many sockets, timers and immediates as before the run');

    await bystanders.check();
  });
});

// ---- 3: a peer leaving while its chunks stream -------------------------------------------------

void describe('a peer that leaves while its chunks stream', () => {
  let server: TestServer;
  before(async () => {
    // With no wait between chunks the next one is always due: whenever a peer leaves, a chunk is
    // on its way to it.
    server = await TestServer.start({ interval: { min: 0, max: 0 }, chars: { min: 1, max: 1 } }, { unrecorded: ['chunk', 'scheduled'] });
  });
  after(() => server.stop());

  // Guards against taking write() returning false on a socket already destroyed (reset) or
  // ended (FIN) for a full buffer: that reports 'blocked' with 0 bytes queued, counts it in
  // stats().blocked and arms the slow-client timer for a connection that is gone.
  void it('is not reported as a blocked slow reader: a blocked report always has bytes queued', async () => {
    const leaving: { client: RawClient; leave: 'reset' | 'end' }[] = [];
    for (const leave of ['reset', 'reset', 'reset', 'end', 'end', 'end'] as const) {
      const client = await server.connect({ retainSymbols: false });
      await client.statistics();
      if (leave === 'reset') client.reset();
      else client.end();
      await server.waitForEvent('closed', { client });
      leaving.push({ client, leave });
    }
    const reports = leaving.flatMap(({ client, leave }) =>
      server.eventsOf('blocked', client).map((event) => `${leave}: blocked with ${event.queuedBytes} bytes queued`),
    );
    assert.deepEqual(reports.filter((report) => report.endsWith(' 0 bytes queued')), [], 'no blocked report with nothing queued');
  });
});
