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
import { bareSchedule } from './bare-schedule.js';

const option = (name: string): string | undefined => {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
};
const [cert, key] = [option('--tls-cert'), option('--tls-key')];

const serve = (socket: Socket): void => {
  socket.on('error', () => undefined);
  const stop = bareSchedule((frame) => socket.write(frame));
  socket.on('close', stop);
};
const server =
  cert === undefined || key === undefined
    ? createServer(serve)
    : createTlsServer({ cert: readFileSync(cert), key: readFileSync(key), minVersion: 'TLSv1.2' }, serve).on('tlsClientError', () => undefined);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address !== null && typeof address === 'object') console.log(`listening on ('127.0.0.1', ${address.port})`);
});
