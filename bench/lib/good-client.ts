/**
 * The well-behaved client of the isolation scenario, in a process of its own so that nothing
 * else in the benchmark shares its event loop: it reads and decodes every frame as fast as it
 * can, asks for statistics every `--every` milliseconds (one request at a time), and times each
 * round trip. Each answer is checked against its own count of symbols since the previous one.
 *
 * The parent sends `{ type: 'phase', name }` to start a new measuring window and `{ type: 'stop' }`
 * to end; the child answers `{ type: 'result', phases }` with the round trips of each window.
 */
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { FrameDecoder } from '../../src/protocol/decoder.js';
import { MAX_CHUNK_LENGTH } from '../../src/protocol/defaults.js';
import { MessageType, SERVER_HEADER_KEYS, type Frame } from '../../src/protocol/frame.js';
import { encodeClientRequest, messageTypeOf, parseStatistics } from '../../src/protocol/messages.js';

export type ToGoodClient = { readonly type: 'phase'; readonly name: string } | { readonly type: 'stop' };

export interface GoodClientPhase {
  readonly name: string;
  readonly roundTripsMs: readonly number[];
  readonly symbols: number;
  readonly seconds: number;
}

export type FromGoodClient =
  | { readonly type: 'connected' }
  | { readonly type: 'result'; readonly phases: readonly GoodClientPhase[]; readonly answersChecked: number; readonly answersWrong: number; readonly closedEarly: boolean };

const [host = '127.0.0.1', port = '0', every = '500'] = process.argv.slice(2);
const intervalMs = Number(every);
const send = (message: FromGoodClient): void => void process.send?.(message);

const decoder = new FrameDecoder({ maxHeaderLength: 1024, maxContentLength: MAX_CHUNK_LENGTH, requiredKeys: SERVER_HEADER_KEYS });
const phases: { name: string; roundTripsMs: number[]; symbols: number; startedAt: number; seconds: number }[] = [];
let counted = 0;
let askedAt: number | undefined;
let answersChecked = 0;
let answersWrong = 0;
let closedEarly = false;
let stopping = false;

const socket = connect({ host, port: Number(port) });
socket.setNoDelay(true);
socket.on('connect', () => send({ type: 'connected' }));
socket.on('error', () => undefined);
socket.on('close', () => {
  closedEarly ||= !stopping;
  clearInterval(asking);
});
socket.on('data', (data: Buffer) => decoder.push(data, onFrame));

function onFrame(frame: Frame): void {
  const phase = phases.at(-1);
  if (messageTypeOf(frame) !== MessageType.statistics) {
    counted += frame.content.length;
    if (phase !== undefined) phase.symbols += frame.content.length;
    return;
  }
  if (askedAt !== undefined) phase?.roundTripsMs.push(performance.now() - askedAt);
  askedAt = undefined;
  answersChecked++;
  if (parseStatistics(frame.content) !== counted) answersWrong++;
  counted = 0;
}

// One request at a time: a second one while the first is unanswered would time the queue.
const asking = setInterval(() => {
  if (askedAt !== undefined || phases.length === 0) return;
  askedAt = performance.now();
  socket.write(encodeClientRequest());
}, intervalMs);

process.on('message', (message: ToGoodClient) => {
  const last = phases.at(-1);
  if (last !== undefined) last.seconds = (performance.now() - last.startedAt) / 1000;
  if (message.type === 'phase') {
    phases.push({ name: message.name, roundTripsMs: [], symbols: 0, startedAt: performance.now(), seconds: 0 });
    return;
  }
  stopping = true;
  clearInterval(asking);
  socket.destroy();
  const result = phases.map(({ name, roundTripsMs, symbols, seconds }) => ({ name, roundTripsMs, symbols, seconds }));
  send({ type: 'result', phases: result, answersChecked, answersWrong, closedEarly });
  process.disconnect();
});
