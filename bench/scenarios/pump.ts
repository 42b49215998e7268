import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { FrameDecoder } from '../../src/protocol/decoder.js';
import { MessageType, SERVER_HEADER_KEYS, type Frame } from '../../src/protocol/frame.js';
import { encodeClientRequest, encodeServerFrame, messageTypeOf, parseStatistics } from '../../src/protocol/messages.js';
import { SERVER_NODE_FLAGS } from '../../test/support/programs.js';
import { cpuSecondsOf, ServerProcess } from '../lib/server-process.js';

const BARE_PUMP = fileURLToPath(new URL('../lib/bare-pump.js', import.meta.url));
const ROUNDS = 3;
const WARM_UP_MS = 500;

/**
 * One server's figures: the median rate, each round's, the cores its process used meanwhile
 * (all its threads), and the cores the reader used (on a small machine the three share it).
 */
export interface Pumped {
  readonly perSecond: number;
  readonly runs: readonly number[];
  readonly cores: number;
  readonly readerCores: number;
}

export interface PumpResult {
  readonly scenario: 'flood' | 'small';
  readonly description: string;
  readonly unit: string;
  readonly ours: Pumped;
  readonly bare: Pumped;
  readonly ratio: number;
  readonly answersChecked: number;
  readonly answersWrong: number;
}

/**
 * One client reading as fast as it can, from our server with `--interval 0-0` and from a bare
 * Node pump of the same frames, alternately, three rounds each; the same decoding reader
 * measures both. flood counts bytes of symbols per second, small counts chunks per second.
 */
export async function runPump(scenario: 'flood' | 'small', options: { seconds: number; progress: (line: string) => void }): Promise<PumpResult> {
  const chars = scenario === 'flood' ? ['--chars', '65536-65536'] : [];
  const ours: number[] = [];
  const bare: number[] = [];
  const oursCores: number[] = [];
  const bareCores: number[] = [];
  const oursReader: number[] = [];
  const bareReader: number[] = [];
  let answersChecked = 0;
  let answersWrong = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    options.progress(`${scenario}: round ${round} of ${ROUNDS}, our server`);
    const server = await ServerProcess.start({ mode: 'quiet', metrics: false, args: ['--interval', '0-0', ...chars] });
    const mine = await measure(server.port, scenario, options.seconds, true, server.pid);
    await server.stop();
    ours.push(mine.perSecond);
    oursCores.push(mine.cores);
    oursReader.push(mine.readerCores);
    answersChecked += mine.answersChecked;
    answersWrong += mine.answersWrong;

    options.progress(`${scenario}: round ${round} of ${ROUNDS}, bare pump`);
    const pump = spawn(process.execPath, [...SERVER_NODE_FLAGS, BARE_PUMP, scenario], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(pump.stdout, 'data')) as [Buffer];
    const port = Number(/listening on (\d+)/.exec(line.toString())?.[1]);
    const theirs = await measure(port, scenario, options.seconds, false, pump.pid ?? 0);
    bare.push(theirs.perSecond);
    bareCores.push(theirs.cores);
    bareReader.push(theirs.readerCores);
    pump.kill();
    await once(pump, 'exit');
  }
  const oursMedian = median(ours);
  const bareMedian = median(bare);
  return {
    scenario,
    description:
      scenario === 'flood'
        ? 'one client, --interval 0-0 --chars 65536-65536: bytes of symbols per second'
        : 'one client, --interval 0-0, 1-5 symbol chunks: chunks per second',
    unit: scenario === 'flood' ? 'bytes/s' : 'chunks/s',
    ours: { perSecond: oursMedian, runs: ours, cores: median(oursCores), readerCores: median(oursReader) },
    bare: { perSecond: bareMedian, runs: bare, cores: median(bareCores), readerCores: median(bareReader) },
    ratio: oursMedian / bareMedian,
    answersChecked,
    answersWrong,
  };
}

/**
 * Reads for `seconds` after a warm-up. flood decodes every frame and ends by checking a
 * statistics answer (with `check`). small only counts bytes: at a million frames a second a
 * decoding reader would measure itself, not the server; every frame of both pumps has the same
 * header and 1-5 symbols (3 on average), so frames = bytes / (frame size with 3 symbols).
 */
async function measure(
  port: number,
  scenario: 'flood' | 'small',
  seconds: number,
  check: boolean,
  pid: number,
): Promise<{ perSecond: number; cores: number; readerCores: number; answersChecked: number; answersWrong: number }> {
  const socket = connect({ host: '127.0.0.1', port });
  const decoder = new FrameDecoder({ maxHeaderLength: 1024, maxContentLength: 1 << 20, requiredKeys: SERVER_HEADER_KEYS });
  let symbols = 0;
  let bytes = 0;
  let answer: ((count: number | undefined) => void) | undefined;
  const onFrame = (frame: Frame): void => {
    if (messageTypeOf(frame) === MessageType.statistics) answer?.(parseStatistics(frame.content));
    else symbols += frame.content.length;
  };
  socket.on('data', (data: Buffer) => {
    bytes += data.length;
    if (scenario === 'flood') decoder.push(data, onFrame);
  });
  await once(socket, 'connect');
  await delay(WARM_UP_MS);
  const windowStart = performance.now();
  const windowCpu = cpuSecondsOf(pid);
  const readerCpu = process.cpuUsage();
  const windowSymbols = symbols;
  const windowBytes = bytes;
  await delay(seconds * 1000);
  const elapsed = (performance.now() - windowStart) / 1000;
  const cores = (cpuSecondsOf(pid) - windowCpu) / elapsed;
  const reader = process.cpuUsage(readerCpu);
  const readerCores = (reader.user + reader.system) / 1e6 / elapsed;
  const perSecond = scenario === 'flood' ? (symbols - windowSymbols) / elapsed : (bytes - windowBytes) / SMALL_FRAME_BYTES / elapsed;
  let answersChecked = 0;
  let answersWrong = 0;
  if (check && scenario === 'flood') {
    const answered = new Promise<number | undefined>((resolve) => (answer = resolve));
    socket.write(encodeClientRequest('s'));
    const reported = await answered;
    answersChecked = 1;
    // Every symbol counted by the server reached us before its answer.
    if (reported !== symbols) answersWrong = 1;
  }
  socket.destroy();
  return { perSecond, cores, readerCores, answersChecked, answersWrong };
}

/** The mean size of a 1-5 symbol chunk frame as both pumps send it (`sleep_time` 0). */
const SMALL_FRAME_BYTES = encodeServerFrame(MessageType.symbols, Buffer.from('abc'), 0).length;

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
