import { connect, type Socket } from 'node:net';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';
import { encodeFrame } from '../../src/protocol/encoder.js';
import { encodeClientRequest } from '../../src/protocol/messages.js';

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
] as const;
export type HostileKind = (typeof HOSTILE_KINDS)[number];

export interface HostileTarget {
  readonly host: string;
  readonly port: number;
  /** No connection lives longer than this, whatever the server does. */
  readonly maxLifeMs: number;
}

const int = (rng: RandomGenerator, min: number, max: number): number => uniformInt(rng, min, max);

function randomBytes(rng: RandomGenerator, length: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) bytes[i] = int(rng, 0, 255);
  return bytes;
}

/** Valid requests, then a few random flips, insertions and deletions. */
function mutatedFrames(rng: RandomGenerator): Buffer {
  const frames = Buffer.concat(Array.from({ length: int(rng, 1, 4) }, () => encodeClientRequest(int(rng, 0, 3) === 0 ? 'x' : 's')));
  const bytes = [...frames];
  for (let m = int(rng, 1, 4); m > 0; m--) {
    const at = int(rng, 0, bytes.length - 1);
    switch (int(rng, 0, 2)) {
      case 0:
        bytes[at] = int(rng, 0, 255);
        break;
      case 1:
        bytes.splice(at, 0, int(rng, 0, 255));
        break;
      default:
        bytes.splice(at, 1);
    }
  }
  return Buffer.from(bytes);
}

/** Writes `bytes` in pieces at random split points. */
function writeSplit(socket: Socket, rng: RandomGenerator, bytes: Buffer): void {
  let at = 0;
  while (at < bytes.length) {
    const next = Math.min(bytes.length, at + int(rng, 1, 64));
    socket.write(bytes.subarray(at, next));
    at = next;
  }
}

/**
 * Runs one hostile connection of the given kind; resolves when it has closed, by the server's
 * doing or ours. Never rejects: a hostile connection's errors are its own business.
 */
export function runHostile(kind: HostileKind, target: HostileTarget, rng: RandomGenerator): Promise<void> {
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
          writeSplit(socket, rng, randomBytes(rng, int(rng, 1, 2048)));
          if (int(rng, 0, 1) === 0) socket.end();
          break;
        case 'mutated-frames':
          writeSplit(socket, rng, mutatedFrames(rng));
          if (int(rng, 0, 1) === 0) socket.end();
          break;
        case 'reset-at-once':
          socket.resetAndDestroy();
          break;
        case 'reset-mid-frame':
          socket.write(request.subarray(0, int(rng, 1, request.length - 1)));
          timers.push(setTimeout(() => socket.resetAndDestroy(), int(rng, 0, 50)));
          break;
        case 'half-frame-then-silence':
          socket.write(request.subarray(0, int(rng, 1, request.length - 1)));
          break;
        case 'trickle': {
          let at = 0;
          timers.push(
            setInterval(() => {
              if (at < request.length) socket.write(request.subarray(at, ++at));
            }, int(rng, 200, 600)),
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
          const header = Buffer.from(['{"byteorder": ', '[1,2', '{"a":{"b":{"c":{"d":{"e":{}}}}}}', '"\u00ff', '{"__proto__": 1}'][int(rng, 0, 4)] ?? '{', 'utf8');
          const prefix = Buffer.alloc(2);
          prefix.writeUInt16BE(header.length);
          socket.write(Buffer.concat([prefix, header]));
          break;
        }
        case 'many-requests-then-close':
          socket.end(Buffer.concat(Array.from({ length: int(rng, 10, 300) }, () => request)));
          break;
        case 'unknown-requests':
          for (let i = int(rng, 1, 5); i > 0; i--) socket.write(encodeClientRequest('q?'));
          timers.push(setTimeout(() => socket.destroy(), int(rng, 10, 300)));
          break;
        case 'half-close':
          socket.end(request);
          break;
      }
    });
  });
}
