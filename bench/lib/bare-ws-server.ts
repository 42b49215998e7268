/**
 * The floor for the scale scenario over WebSocket: the bare-server.ts of the web port. A bare
 * `ws` server that does the least a server of this protocol can do over WebSocket: a setTimeout
 * per connection, 1-5 s, then one message holding a pre-encoded header and 1-5 random symbols.
 * No requests read, no counters, no limits, no logging. Ours is measured beside it in the same
 * run, so the ratio says what our real work costs over the same library.
 */
import { WebSocketServer } from 'ws';
import { bareSchedule } from './bare-schedule.js';

const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, clientTracking: false });
server.on('connection', (ws) => {
  ws.on('error', () => undefined);
  const stop = bareSchedule((frame) => ws.send(frame));
  ws.on('close', stop);
});
server.on('listening', () => {
  const address = server.address();
  if (typeof address === 'object' && address !== null) console.log(`listening on ('127.0.0.1', ${address.port})`);
});
