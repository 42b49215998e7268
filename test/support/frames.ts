/**
 * Frames built by hand, for bytes no encoder would write: a header that is not JSON, not
 * UTF-8, not an object, or lies about its length; and decoded frames for code that reads
 * frames rather than bytes.
 */
import { PREFIX_LENGTH, type Frame, type FrameHeader } from '../../src/protocol/frame.js';

/** The 2-byte big-endian header length that starts every frame. */
export function lengthPrefix(length: number): Buffer {
  const prefix = Buffer.alloc(2);
  prefix.writeUInt16BE(length);
  return prefix;
}

/** A frame around an arbitrary header text (or raw header bytes), its length prefix computed. */
export function rawFrame(header: string | Buffer, content: Buffer = Buffer.alloc(0)): Buffer {
  const headerBytes = typeof header === 'string' ? Buffer.from(header, 'utf8') : header;
  return Buffer.concat([lengthPrefix(headerBytes.length), headerBytes, content]);
}

/**
 * `bytes` cut at `points` (any numbers, taken modulo the length, in any order, repeats allowed),
 * for feeding a decoder or parser at random splits. Each piece is its own copy, so the reader
 * cannot lean on pieces sharing memory.
 */
export function splitAt(bytes: Buffer, points: readonly number[]): Buffer[] {
  const cuts = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut > start) pieces.push(Buffer.from(bytes.subarray(start, cut)));
    start = cut;
  }
  return pieces;
}

/** `bytes` one byte at a time, each its own buffer. */
export function byteByByte(bytes: Buffer): Buffer[] {
  return Array.from(bytes, (byte) => Buffer.of(byte));
}

/**
 * A server frame as the decoder hands it over: the header a server writes, plus `extra`, around
 * `content` (latin1), and the size it took on the wire.
 */
export function serverFrame(content: string, extra: Record<string, unknown> = {}): Frame {
  const body = Buffer.from(content, 'latin1');
  const header = {
    byteorder: 'little',
    'content-type': 'binary/custom-server-binary-type',
    'content-encoding': 'binary',
    'content-length': body.length,
    sleep_time: 1,
    ...extra,
  } as FrameHeader;
  return { header, content: body, size: PREFIX_LENGTH + Buffer.byteLength(JSON.stringify(header)) + body.length };
}
