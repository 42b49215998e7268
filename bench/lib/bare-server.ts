/**
 * The floor for the scale scenario: a bare Node server that does the least a server of this
 * protocol can do: a setTimeout per connection, 1-5 s, then one write of a pre-encoded header
 * and 1-5 random symbols. No requests read, no counters, no limits, no logging. Our server is
 * measured beside it in the same run, so the ratio says what our real work costs.
 */
import { createServer } from 'node:net';
import { encodeServerFrame } from '../../src/protocol/messages.js';

const ALPHABET = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789');
const random = (min: number, max: number): number => min + Math.floor(Math.random() * (max - min + 1));

const server = createServer((socket) => {
  socket.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  const next = (): void => {
    const seconds = random(1, 5);
    timer = setTimeout(() => {
      const symbols = Buffer.allocUnsafe(random(1, 5));
      for (let i = 0; i < symbols.length; i++) symbols[i] = ALPHABET[random(0, ALPHABET.length - 1)] as number;
      socket.write(encodeServerFrame('symbols', symbols, seconds));
      next();
    }, seconds * 1000);
  };
  next();
  socket.on('close', () => clearTimeout(timer));
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address !== null && typeof address === 'object') console.log(`listening on ('127.0.0.1', ${address.port})`);
});
