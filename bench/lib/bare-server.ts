/**
 * The floor for the scale scenario: a bare Node server that does the least a server of this
 * protocol can do: a setTimeout per connection, 1-5 s, then one write of a pre-encoded header
 * and 1-5 random symbols. No requests read, no counters, no limits, no logging. Our server is
 * measured beside it in the same run, so the ratio says what our real work costs. With
 * `--tls-cert FILE --tls-key FILE` it is a bare `node:tls` server doing the same.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { encodeServerFrame } from '../../src/protocol/messages.js';

const ALPHABET = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789');
const random = (min: number, max: number): number => min + Math.floor(Math.random() * (max - min + 1));

const option = (name: string): string | undefined => {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
};
const [cert, key] = [option('--tls-cert'), option('--tls-key')];

const serve = (socket: Socket): void => {
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
};
const server =
  cert === undefined || key === undefined
    ? createServer(serve)
    : createTlsServer({ cert: readFileSync(cert), key: readFileSync(key), minVersion: 'TLSv1.2' }, serve).on('tlsClientError', () => undefined);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address !== null && typeof address === 'object') console.log(`listening on ('127.0.0.1', ${address.port})`);
});
