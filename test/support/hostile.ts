/**
 * Hostile byte streams, from a seeded generator: what a broken or malicious peer sends. The
 * fault tests and the fault benchmark draw from the same generators.
 */
import { encodeClientRequest } from '../../src/protocol/messages.js';
import type { Random } from './random.js';

const REQUEST = encodeClientRequest('s');

/** One to four well-formed requests as one stream: mostly `s`, else a few random bytes. */
export function validRequests(random: Random): Buffer {
  const frames = Array.from({ length: random.int(1, 4) }, () =>
    random.chance(0.7) ? REQUEST : encodeClientRequest(random.bytes(random.int(1, 5)).toString('latin1')),
  );
  return Buffer.concat(frames);
}

/** One to three random edits: bit flips, byte changes, deletions, insertions, truncation, repeats. */
export function mutate(bytes: Buffer, random: Random): Buffer {
  let out = Buffer.from(bytes);
  const edits = random.int(1, 3);
  for (let i = 0; i < edits && out.length > 0; i++) {
    const at = random.int(0, out.length - 1);
    switch (random.int(0, 5)) {
      case 0:
        out[at] = (out[at] ?? 0) ^ (1 << random.int(0, 7));
        break;
      case 1:
        out[at] = random.int(0, 255);
        break;
      case 2:
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + random.int(1, 4))]);
        break;
      case 3:
        out = Buffer.concat([out.subarray(0, at), random.bytes(random.int(1, 4)), out.subarray(at)]);
        break;
      case 4:
        out = out.subarray(0, at);
        break;
      default: {
        const end = Math.min(out.length, at + random.int(1, 16));
        out = Buffer.concat([out.subarray(0, end), out.subarray(at, end), out.subarray(end)]);
      }
    }
  }
  return out;
}

/** Up to `maxCuts` distinct offsets inside a stream of `length` bytes, ascending: where to cut it into writes. */
export function splitPoints(length: number, random: Random, maxCuts = 4): number[] {
  if (length < 2) return [];
  const cuts = new Set(Array.from({ length: random.int(0, maxCuts) }, () => random.int(1, length - 1)));
  return [...cuts].sort((a, b) => a - b);
}

/** `bytes` cut at `cuts` (ascending offsets). */
export function piecesOf(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const ends = [0, ...cuts, bytes.length];
  return ends.slice(1).map((end, i) => bytes.subarray(ends[i], end));
}
