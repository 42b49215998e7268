/**
 * A hostile (or merely odd) server for client tests: it listens on 127.0.0.1 port 0 and does
 * with each connection exactly what the test says, byte for byte, so that every way a server
 * can misbehave can be put to the built client.
 */
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { encodeFrame, type HeaderFields } from '../../src/protocol/encoder.js';
import { BYTE_ORDER, CONTENT_ENCODING, SERVER_CONTENT_TYPE, type MessageType } from '../../src/protocol/frame.js';
import { statisticsText } from '../../src/protocol/messages.js';
import { DEFAULT_WAIT_MS } from './net.js';
import { withTimeout } from './wait.js';

/** The header every server frame needs, with whatever the test adds or overrides. */
export function serverHeader(contentLength: number, extra: HeaderFields = {}): HeaderFields {
  return {
    byteorder: BYTE_ORDER,
    'content-type': SERVER_CONTENT_TYPE,
    'content-encoding': CONTENT_ENCODING,
    'content-length': contentLength,
    sleep_time: 1,
    ...extra,
  };
}

/** A server frame of `type` with `content` as it is (a string is taken byte for byte, latin1). */
export function frame(type: MessageType | undefined, content: string | Buffer, extra: HeaderFields = {}): Buffer {
  const body = typeof content === 'string' ? Buffer.from(content, 'latin1') : content;
  return encodeFrame(serverHeader(body.length, type === undefined ? extra : { 'message-type': type, ...extra }), body);
}

export const chunk = (symbols: string, extra?: HeaderFields): Buffer => frame('symbols', symbols, extra);
export const statistics = (count: number | string): Buffer => frame('statistics', statisticsText(0).replace('0', String(count)));

/** A connection as the fake server sees it. */
export interface FakeConnection {
  readonly socket: Socket;
  /** Every byte the client sent so far. */
  readonly received: Buffer[];
  /** Resolves once the client has sent `count` statistics requests (`s` frames) in all. */
  requests(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves when the connection has closed. */
  readonly closed: Promise<void>;
}

export class FakeServer {
  readonly #server: Server;
  readonly #connections: FakeConnection[] = [];

  private constructor(onConnection: (connection: FakeConnection) => void) {
    this.#server = createServer((socket) => {
      socket.on('error', () => undefined);
      const received: Buffer[] = [];
      const requestWaiters = new Set<{ count: number; resolve: () => void }>();
      const countRequests = (): number => countOf(Buffer.concat(received), '}s');
      socket.on('data', (data: Buffer) => {
        received.push(data);
        const seen = countRequests();
        for (const waiter of requestWaiters) {
          if (seen >= waiter.count) {
            requestWaiters.delete(waiter);
            waiter.resolve();
          }
        }
      });
      const connection: FakeConnection = {
        socket,
        received,
        // Not events.once: it rejects on the 'error' (a reset) that comes before 'close', and a
        // rejection nobody awaits would fail whichever test is running.
        closed: new Promise<void>((resolve) => socket.once('close', () => resolve())),
        requests: (count, timeoutMs = DEFAULT_WAIT_MS) => {
          if (countRequests() >= count) return Promise.resolve();
          const done = new Promise<void>((resolve) => requestWaiters.add({ count, resolve }));
          return withTimeout(done, timeoutMs, `${count} statistics requests from the client`);
        },
      };
      this.#connections.push(connection);
      onConnection(connection);
    });
  }

  /** Starts listening; `onConnection` says what to do with each connection. */
  static async start(onConnection: (connection: FakeConnection) => void): Promise<FakeServer> {
    const fake = new FakeServer(onConnection);
    fake.#server.listen(0, '127.0.0.1');
    await once(fake.#server, 'listening');
    return fake;
  }

  get port(): number {
    return (this.#server.address() as { port: number }).port;
  }

  /** `('127.0.0.1', PORT)`, as the client's lines name this server. */
  get label(): string {
    return `('127.0.0.1', ${this.port})`;
  }

  get connections(): readonly FakeConnection[] {
    return this.#connections;
  }

  async stop(): Promise<void> {
    for (const { socket } of this.#connections) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

function countOf(haystack: Buffer, needle: string): number {
  let count = 0;
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + needle.length)) count++;
  return count;
}
