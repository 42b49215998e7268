import { fork } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { FromGoodClient, GoodClientPhase, ToGoodClient } from '../lib/good-client.js';
import { metricTotal } from '../../test/support/metrics.js';
import { ServerProcess } from '../lib/server-process.js';

const GOOD_CLIENT = fileURLToPath(new URL('../lib/good-client.js', import.meta.url));
/** How often the good client asks for statistics, as in the measurement that opened the question. */
const ASK_EVERY_MS = 500;
const RSS_SAMPLE_MS = 100;
const CUT_OFF_POLL_MS = 100;
const SLOW_CONSUMERS = 'multi_socket_protocol_errors_total{code="ERR_SLOW_CONSUMER"}';

export interface IsolationOptions {
  /** Length of the window alone, and the shortest of each wave beside the non-readers, in seconds. */
  readonly seconds: number;
  readonly nonReaders: number;
  /** How many times the non-readers come, one wave after the other is cut off. */
  readonly waves: number;
  readonly slowClientTimeoutSeconds: number;
  readonly progress: (line: string) => void;
}

export interface RoundTrips {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface IsolationResult {
  readonly description: string;
  /** The good client's statistics round trips, alone and then beside the non-readers. */
  readonly alone: RoundTrips;
  readonly beside: RoundTrips;
  /** p99 beside the non-readers over p99 alone: the floor is 2. */
  readonly ratio: number;
  /** What the good client received, in MiB of symbols per second, in each window. */
  readonly aloneMiBps: number;
  readonly besideMiBps: number;
  readonly nonReaders: {
    readonly waves: number;
    readonly opened: number;
    /** Closed by the server with ERR_SLOW_CONSUMER, by its own count. */
    readonly cutOff: number;
    /** From a wave's connecting to the server's cutting off its last, the longest: the time to fill their buffers, then the timeout. */
    readonly longestLifeMs: number;
  };
  /** The server's resident memory: with the good client alone, and at its peak beside the non-readers. */
  readonly serverRssMb: { readonly alone: number; readonly peak: number };
  readonly answersChecked: number;
  readonly answersWrong: number;
  /** Whether the server closed the good client: it never should. */
  readonly goodClientCut: boolean;
}

/**
 * Isolation under flood: one client that reads as fast as it can and asks for statistics twice a
 * second, from a server sending 4096-symbol chunks with no wait; first alone, then beside
 * waves of clients that connect and never read, each wave until the server has cut it off as
 * slow consumers. Both windows run against the same server process, one after the other.
 */
export async function runIsolation(options: IsolationOptions): Promise<IsolationResult> {
  const { seconds, nonReaders, waves, slowClientTimeoutSeconds, progress } = options;
  const server = await ServerProcess.start({
    mode: 'quiet',
    args: ['--interval', '0-0', '--chars', '4096-4096', '--slow-client-timeout', String(slowClientTimeoutSeconds), '--max-clients', String(2 * nonReaders + 10)],
  });
  const good = fork(GOOD_CLIENT, ['127.0.0.1', String(server.port), String(ASK_EVERY_MS)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const messages = (type: FromGoodClient['type']): Promise<FromGoodClient> =>
    new Promise((resolve) => good.on('message', (message: FromGoodClient) => message.type === type && resolve(message)));
  const result = messages('result');
  await messages('connected');
  const tell = (message: ToGoodClient): void => void good.send(message);
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, server.rssBytes())), RSS_SAMPLE_MS);
  try {
    progress(`isolation: the good client alone for ${seconds} s`);
    tell({ type: 'phase', name: 'alone' });
    await delay(seconds * 1000);
    const aloneRss = server.rssBytes();
    peakRss = 0;

    tell({ type: 'phase', name: 'beside' });
    let longestLifeMs = 0;
    for (let wave = 1; wave <= waves; wave++) {
      progress(`isolation: the good client beside ${nonReaders} clients that never read (wave ${wave} of ${waves})`);
      const started = performance.now();
      const sockets = await Promise.all(Array.from({ length: nonReaders }, () => nonReader(server.port)));
      // A socket that never reads never sees the server's FIN either (it waits behind the
      // unread bytes), so the server's own count tells when they are gone.
      const [allCut] = await Promise.all([untilCutOff(server, wave * nonReaders, seconds * 1000 + slowClientTimeoutSeconds * 4000), delay(seconds * 1000)]);
      longestLifeMs = Math.max(longestLifeMs, allCut - started);
      for (const socket of sockets) socket.destroy();
    }
    tell({ type: 'stop' });
    const final = (await result) as Extract<FromGoodClient, { type: 'result' }>;
    const [alone, beside] = final.phases as [GoodClientPhase, GoodClientPhase];
    const metrics = await server.metrics();
    const aloneTrips = summary(alone.roundTripsMs);
    const besideTrips = summary(beside.roundTripsMs);
    return {
      description: `one reading client asking for statistics every ${ASK_EVERY_MS} ms, --interval 0-0 --chars 4096-4096 --slow-client-timeout ${slowClientTimeoutSeconds}; alone for ${seconds} s, then beside ${waves} waves of ${nonReaders} clients that never read`,
      alone: aloneTrips,
      beside: besideTrips,
      ratio: besideTrips.p99 / aloneTrips.p99,
      aloneMiBps: alone.symbols / alone.seconds / 1048576,
      besideMiBps: beside.symbols / beside.seconds / 1048576,
      nonReaders: {
        waves,
        opened: waves * nonReaders,
        cutOff: metricTotal(metrics, SLOW_CONSUMERS),
        longestLifeMs,
      },
      serverRssMb: { alone: aloneRss / 1048576, peak: peakRss / 1048576 },
      answersChecked: final.answersChecked,
      answersWrong: final.answersWrong,
      goodClientCut: final.closedEarly,
    };
  } finally {
    clearInterval(sampler);
    if (good.exitCode === null) good.kill();
    await server.stop();
  }
}

/** A client that connects and never reads. */
async function nonReader(port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.pause();
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  return socket;
}

/** Resolves at the moment the server has cut off `count` slow consumers, or when `withinMs` is over. */
async function untilCutOff(server: ServerProcess, count: number, withinMs: number): Promise<number> {
  const deadline = performance.now() + withinMs;
  for (;;) {
    const metrics = await server.metrics();
    if (metricTotal(metrics, SLOW_CONSUMERS) >= count || performance.now() > deadline) return performance.now();
    await delay(CUT_OFF_POLL_MS);
  }
}

function summary(values: readonly number[]): RoundTrips {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? Number.NaN };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
