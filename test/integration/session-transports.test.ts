import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { FrameDecoder } from '../../src/protocol/decoder.js';
import { MAX_CHUNK_LENGTH } from '../../src/protocol/defaults.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { MessageType, SERVER_HEADER_KEYS, type Frame } from '../../src/protocol/frame.js';
import { encodeClientRequest, messageTypeOf, parseStatistics } from '../../src/protocol/messages.js';
import { DEFAULT_SERVER_CONFIG, type ServerConfig } from '../../src/server/config.js';
import type { ServerEvent } from '../../src/server/events.js';
import { StreamSource } from '../../src/server/generator.js';
import { Scheduler } from '../../src/server/scheduler.js';
import { Session } from '../../src/server/session.js';
import type { SessionContext } from '../../src/server/session-core.js';
import { ServerStats } from '../../src/server/stats.js';
import { laneCounts } from '../../src/server/symbol-lanes.js';
import { TurnQueue } from '../../src/server/turns.js';
import { TcpTransport } from '../../src/transport/tcp.js';
import type { Transport } from '../../src/transport/transport.js';
import { MemoryTransport } from '../support/memory-transport.js';
import { DEFAULT_WAIT_MS } from '../support/net.js';
import { assertSeededFlood } from '../support/symbols.js';
import { waitFor, withTimeout } from '../support/wait.js';

/**
 * The session's behaviour does not depend on what carries it: the same cases, the same
 * assertions, over a real TCP socket and over a transport with no socket at all.
 */

/** The client's end of a rig: frames as they arrive, bytes to send, reading to stop. */
class PeerEnd {
  readonly frames: Frame[] = [];
  readonly closed: Promise<void>;
  #closed = false;
  #markClosed: () => void = () => undefined;
  readonly #decoder = new FrameDecoder({ maxHeaderLength: 1024, maxContentLength: MAX_CHUNK_LENGTH, requiredKeys: SERVER_HEADER_KEYS });
  readonly #waiters = new Set<{ type: MessageType | undefined; from: number; resolve: (frame: Frame) => void }>();

  constructor(
    readonly send: (data: Buffer) => void,
    readonly stopReading: () => void,
    readonly startReading: () => void,
  ) {
    this.closed = new Promise((resolve) => (this.#markClosed = resolve));
  }

  receive(data: Buffer): void {
    this.#decoder.push(data, (frame) => {
      this.frames.push(frame);
      for (const waiter of this.#waiters) {
        if (waiter.type === undefined || messageTypeOf(frame) === waiter.type) {
          this.#waiters.delete(waiter);
          waiter.resolve(frame);
        }
      }
    });
  }

  markClosed(): void {
    this.#closed = true;
    this.#markClosed();
  }

  /** The next frame of `type` (any, if not given) from now on. */
  nextFrame(type?: MessageType): Promise<Frame> {
    if (this.#closed) return Promise.reject(new Error('connection closed'));
    return withTimeout(new Promise<Frame>((resolve) => this.#waiters.add({ type, from: this.frames.length, resolve })), DEFAULT_WAIT_MS, `a ${type ?? 'any'} frame`);
  }

  /** Symbols received before `frame` (an answer, say: chunks that came after it in the same read are not its). */
  symbolsBefore(frame: Frame): number {
    return this.frames
      .slice(0, this.frames.indexOf(frame))
      .filter((before) => messageTypeOf(before) === MessageType.symbols)
      .reduce((sum, before) => sum + before.content.length, 0);
  }

  symbolFrames(): Frame[] {
    return this.frames.filter((frame) => messageTypeOf(frame) === MessageType.symbols);
  }

  /** Resolves once `count` symbols frames have come in all. */
  async symbolFramesUntil(count: number): Promise<Frame[]> {
    while (this.symbolFrames().length < count) await this.nextFrame(MessageType.symbols);
    return this.symbolFrames().slice(0, count);
  }
}

interface Rig {
  readonly peer: PeerEnd;
  readonly session: Session;
  readonly events: ServerEvent[];
  /** The first event of `type` recorded from index `since` on (every one, by default), or the next. */
  waitForEvent<K extends ServerEvent['type']>(type: K, since?: number): Promise<Extract<ServerEvent, { type: K }>>;
  readonly sessionClosed: Promise<void>;
}

/** Whether the session emits chunk events: only without them does a flooding stream lend its symbols. */
interface RigOptions {
  readonly chunkEvents?: boolean;
}

type RigMaker = (config: ServerConfig, options?: RigOptions) => Promise<Rig>;

/** The seed of every rig's stream. */
const SEED = 7;

/** A session on `transport`, with a context of its own that records every event. */
function sessionOn(transport: Transport, config: ServerConfig, peer: PeerEnd, options: RigOptions): Rig {
  const events: ServerEvent[] = [];
  const waiters = new Set<{ type: string; resolve: (event: ServerEvent) => void }>();
  let closed: () => void = () => undefined;
  const sessionClosed = new Promise<void>((resolve) => (closed = resolve));
  const context: SessionContext = {
    config,
    scheduler: new Scheduler(),
    turns: new TurnQueue(),
    stats: new ServerStats(),
    chunkEvents: options.chunkEvents ?? true,
    emit: (event) => {
      events.push(event);
      for (const waiter of waiters) {
        if (waiter.type === event.type) {
          waiters.delete(waiter);
          waiter.resolve(event);
        }
      }
    },
    onClosed: () => closed(),
  };
  const generator = new StreamSource(SEED).next(config.chars, config.interval, config.alphabet);
  const session = new Session(transport, { id: 1, ...transport.remote }, generator, context);
  session.start();
  return {
    peer,
    session,
    events,
    sessionClosed,
    waitForEvent: <K extends ServerEvent['type']>(type: K, since = 0) => {
      const past = events.slice(since).find((event) => event.type === type);
      if (past !== undefined) return Promise.resolve(past as Extract<ServerEvent, { type: K }>);
      return withTimeout(new Promise<Extract<ServerEvent, { type: K }>>((resolve) => waiters.add({ type, resolve: resolve as (event: ServerEvent) => void })), DEFAULT_WAIT_MS, `event ${type}`);
    },
  };
}

const inMemory: RigMaker = (config, options = {}) => {
  const transport = new MemoryTransport();
  const peer = new PeerEnd(
    (data) => transport.send(data),
    () => transport.stopReading(),
    () => transport.startReading(),
  );
  transport.onPeerData = (data) => peer.receive(data);
  transport.onPeerClosed = () => peer.markClosed();
  return Promise.resolve(sessionOn(transport, config, peer, options));
};

const listeners: Server[] = [];
const overTcp: RigMaker = async (config, options = {}) => {
  const listener = createServer();
  listeners.push(listener);
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const client: Socket = connect((listener.address() as AddressInfo).port, '127.0.0.1');
  const [socket] = (await once(listener, 'connection')) as [Socket];
  const peer = new PeerEnd(
    (data) => client.write(data),
    () => client.pause(),
    () => client.resume(),
  );
  client.on('data', (data: Buffer) => peer.receive(data));
  client.on('error', () => undefined);
  client.on('close', () => peer.markClosed());
  return sessionOn(new TcpTransport(socket), config, peer, options);
};

const FAST: ServerConfig = { ...DEFAULT_SERVER_CONFIG, interval: { min: 0.01, max: 0.02 }, frameTimeoutMs: 300, slowClientTimeoutMs: 300 };

after(() => {
  for (const listener of listeners) listener.close();
});

for (const [name, makeRig] of [
  ['in memory', inMemory],
  ['over TCP', overTcp],
] as const) {
  void describe(`a session ${name}`, () => {
    void it('sends chunks on its schedule and answers statistics with exactly what was delivered', async () => {
      const { peer, session } = await makeRig(FAST);
      for (let i = 0; i < 3; i++) await peer.nextFrame(MessageType.symbols);
      peer.send(encodeClientRequest());
      const answer = await peer.nextFrame(MessageType.statistics);
      assert.equal(parseStatistics(answer.content), peer.symbolsBefore(answer));
      session.destroy();
    });

    void it('answers an unknown request with an error frame and goes on', async () => {
      const { peer, session } = await makeRig(FAST);
      peer.send(encodeClientRequest('x'));
      const error = await peer.nextFrame(MessageType.error);
      assert.match(error.content.toString('latin1'), new RegExp(`^${ErrorCode.unknownRequest}: `));
      await peer.nextFrame(MessageType.symbols);
      session.destroy();
    });

    void it('answers a malformed frame with its error code and closes', async () => {
      const { peer, sessionClosed } = await makeRig(FAST);
      peer.send(Buffer.from([0x00, 0x03, 0x7b, 0x7b, 0x7b]));
      const error = await peer.nextFrame(MessageType.error);
      assert.match(error.content.toString('latin1'), new RegExp(`^${ErrorCode.headerJson}: `));
      await withTimeout(sessionClosed, DEFAULT_WAIT_MS, 'the session to close');
    });

    void it('gives a frame that has begun --frame-timeout to complete', async () => {
      const { peer, sessionClosed } = await makeRig(FAST);
      peer.send(encodeClientRequest().subarray(0, 10));
      const error = await peer.nextFrame(MessageType.error);
      assert.match(error.content.toString('latin1'), new RegExp(`^${ErrorCode.frameTimeout}: `));
      await withTimeout(sessionClosed, DEFAULT_WAIT_MS, 'the session to close');
    });

    void it('stops at a full buffer and cuts off a peer that stays there for --slow-client-timeout', async () => {
      const rig = await makeRig({ ...FAST, interval: { min: 0, max: 0 }, chars: { min: 65_536, max: 65_536 } });
      rig.peer.stopReading();
      const blocked = await rig.waitForEvent('blocked');
      assert.ok(blocked.queuedBytes > 0);
      const failed = await rig.waitForEvent('protocol-error');
      assert.equal(failed.error.code, ErrorCode.slowConsumer);
      await withTimeout(rig.sessionClosed, DEFAULT_WAIT_MS, 'the session to close');
      const chunks = rig.events.filter((event) => event.type === 'chunk').length;
      // Bounded: what was written before the buffer filled, not a chunk a turn for 300 ms.
      assert.ok(chunks < 1000, `${chunks} chunks written to a peer that read nothing`);
    });

    void it('floods with symbols lent to the transport, which stay as they were while the peer reads nothing', async () => {
      // The peer stops reading; once the session is blocked with bytes still queued (lent
      // symbols among them) and the helper has made every segment it could meanwhile, it reads
      // again, and must get exactly the seeded stream: memory reused before it was sent shows.
      const chars = { min: 30_000, max: 70_000 };
      const rig = await makeRig({ ...FAST, interval: { min: 0, max: 0 }, chars, slowClientTimeoutMs: 30_000 }, { chunkEvents: false });
      await rig.peer.nextFrame(MessageType.symbols);
      rig.peer.stopReading();
      let blocked = await rig.waitForEvent('blocked', rig.events.length);
      while (blocked.queuedBytes === 0) blocked = await rig.waitForEvent('blocked', rig.events.indexOf(blocked) + 1);
      await waitFor(() => laneCounts().pending === 0, { timeoutMs: DEFAULT_WAIT_MS, what: 'the helper to make every segment queued' });
      rig.peer.startReading();
      assertSeededFlood(await rig.peer.symbolFramesUntil(60), SEED, chars);
      rig.session.destroy();
    });

    void it('says the server is shutting down, with the reason, and ends', async () => {
      const { peer, session, sessionClosed } = await makeRig(FAST);
      await peer.nextFrame(MessageType.symbols);
      session.shutdown('going away');
      const shutdown = await peer.nextFrame(MessageType.shutdown);
      assert.equal(shutdown.content.toString('latin1'), 'going away');
      await withTimeout(peer.closed, DEFAULT_WAIT_MS, 'the peer to see the end');
      session.destroy();
      await withTimeout(sessionClosed, DEFAULT_WAIT_MS, 'the session to close');
    });
  });
}
