/**
 * The yardstick: a bare Node socket server that writes frames as fast as the reader takes
 * them, with none of the product's work (no schedule, no counters, no limits, no logging).
 * `node bare-pump.js flood` writes one pre-built 65,536-symbol frame over and over;
 * `node bare-pump.js small` generates 1-5 symbol frames, 64 joined per write.
 * It prints its port, then serves one connection at a time.
 */
import { createServer } from 'node:net';
import { encodeServerFrame } from '../../src/protocol/messages.js';
import { randomBetween, randomSymbol, randomSymbols } from './bare-schedule.js';

const kind = process.argv[2] === 'flood' ? 'flood' : 'small';

const floodFrame = encodeServerFrame('symbols', randomSymbols(65_536), 0);
/** The five frame heads (prefix and header) for 1-5 symbols, built once: a bare pump's only cost is the symbols. */
const heads = [1, 2, 3, 4, 5].map((n) => encodeServerFrame('symbols', randomSymbols(n), 0).subarray(0, -n));

function batch(): Buffer {
  if (kind === 'flood') return floodFrame;
  const out = Buffer.allocUnsafe(64 * ((heads[4]?.length ?? 0) + 5));
  let at = 0;
  for (let i = 0; i < 64; i++) {
    const n = randomBetween(1, 5);
    at += (heads[n - 1] as Buffer).copy(out, at);
    for (let j = 0; j < n; j++) out[at++] = randomSymbol();
  }
  return out.subarray(0, at);
}

const server = createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('error', () => undefined);
  const pump = (): void => {
    while (!socket.destroyed && socket.write(batch()));
  };
  socket.on('drain', pump);
  pump();
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address !== null && typeof address === 'object') console.log(`listening on ${address.port}`);
});
