import { connect, type Socket } from 'node:net';
import { encodeFrame } from '../../src/protocol/encoder.js';
import { encodeClientRequest } from '../../src/protocol/messages.js';
import { lengthPrefix } from '../../test/support/frames.js';
import { mutate, piecesOf, splitPoints, validRequests } from '../../test/support/hostile.js';
import type { Random } from '../../test/support/random.js';

/** The ways a connection misbehaves, each a few lines: what a hostile or broken peer sends. */
export const HOSTILE_KINDS = [
  'random-bytes',
  'mutated-frames',
  'reset-at-once',
  'reset-mid-frame',
  'half-frame-then-silence',
  'trickle',
  'huge-header-length',
  'huge-content-length',
  'bad-json',
  'many-requests-then-close',
  'unknown-requests',
  'half-close',
  'never-reads',
  'request-flood',
] as const;
export type HostileKind = (typeof HOSTILE_KINDS)[number];

export interface HostileTarget {
  readonly host: string;
  readonly port: number;
  /** No connection lives longer than this, whatever the server does. */
  readonly maxLifeMs: number;
}

/** Writes `bytes` in pieces, cut at random points (at most one cut per 32 bytes). */
function writeSplit(socket: Socket, random: Random, bytes: Buffer): void {
  for (const piece of piecesOf(bytes, splitPoints(bytes.length, random, Math.ceil(bytes.length / 32)))) socket.write(piece);
}

/**
 * Runs one hostile connection of the given kind; resolves when it has closed, by the server's
 * doing or ours. Never rejects: a hostile connection's errors are its own business.
 */
export function runHostile(kind: HostileKind, target: HostileTarget, random: Random): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ host: target.host, port: target.port });
    const timers: NodeJS.Timeout[] = [];
    const life = setTimeout(() => socket.destroy(), target.maxLifeMs);
    socket.on('error', () => undefined);
    socket.on('data', () => undefined);
    socket.once('close', () => {
      clearTimeout(life);
      for (const timer of timers) clearInterval(timer);
      resolve();
    });
    const request = encodeClientRequest('s');
    socket.once('connect', () => {
      switch (kind) {
        case 'random-bytes':
          writeSplit(socket, random, random.bytes(random.int(1, 2048)));
          if (random.chance(0.5)) socket.end();
          break;
        case 'mutated-frames':
          writeSplit(socket, random, mutate(validRequests(random), random));
          if (random.chance(0.5)) socket.end();
          break;
        case 'reset-at-once':
          socket.resetAndDestroy();
          break;
        case 'reset-mid-frame':
          socket.write(request.subarray(0, random.int(1, request.length - 1)));
          timers.push(setTimeout(() => socket.resetAndDestroy(), random.int(0, 50)));
          break;
        case 'half-frame-then-silence':
          socket.write(request.subarray(0, random.int(1, request.length - 1)));
          break;
        case 'trickle': {
          let at = 0;
          timers.push(
            setInterval(() => {
              if (at < request.length) socket.write(request.subarray(at, ++at));
            }, random.int(200, 600)),
          );
          break;
        }
        case 'huge-header-length':
          socket.write(Buffer.from([0xff, 0xff, 0x7b]));
          break;
        case 'huge-content-length':
          socket.write(
            encodeFrame(
              { byteorder: 'little', 'content-type': 'binary/custom-client-binary-type', 'content-encoding': 'binary', 'content-length': 1 << 30 },
              Buffer.alloc(0),
            ),
          );
          break;
        case 'bad-json': {
          const header = Buffer.from(random.pick(['{"byteorder": ', '[1,2', '{"a":{"b":{"c":{"d":{"e":{}}}}}}', '"\u00ff', '{"__proto__": 1}']), 'utf8');
          socket.write(Buffer.concat([lengthPrefix(header.length), header]));
          break;
        }
        case 'many-requests-then-close':
          socket.end(Buffer.concat(Array.from({ length: random.int(10, 300) }, () => request)));
          break;
        case 'unknown-requests':
          for (let i = random.int(1, 5); i > 0; i--) socket.write(encodeClientRequest('q?'));
          timers.push(setTimeout(() => socket.destroy(), random.int(10, 300)));
          break;
        case 'half-close':
          socket.end(request);
          break;
        case 'never-reads':
          // Connects and lets the server's chunks pile up unread, for the whole of its life.
          socket.pause();
          break;
        case 'request-flood': {
          // Statistics requests as fast as the socket takes them, answers read and dropped.
          const batch = Buffer.concat(Array.from({ length: 512 }, () => request));
          const flood = (): void => {
            while (!socket.destroyed && socket.write(batch));
          };
          socket.on('drain', flood);
          flood();
          break;
        }
      }
    });
  });
}
