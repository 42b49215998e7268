import { PREFIX_LENGTH, MAX_PREFIX_VALUE } from './frame.js';

export type HeaderValue = string | number;
export type HeaderFields = Readonly<Record<string, HeaderValue>>;

/**
 * Serialises a flat header exactly as Python's `json.dumps` does (`", "` and `": "` as
 * separators, keys in insertion order), so our frames are byte-for-byte the original's.
 */
export function encodeHeader(fields: HeaderFields): string {
  let out = '{';
  let first = true;
  for (const key in fields) {
    if (!first) out += ', ';
    first = false;
    out += `${JSON.stringify(key)}: ${JSON.stringify(fields[key])}`;
  }
  return `${out}}`;
}

/** Builds one frame: 2-byte big-endian header length, JSON header, content. */
export function encodeFrame(fields: HeaderFields, content: Uint8Array): Buffer {
  const header = encodeHeader(fields);
  const headerLength = Buffer.byteLength(header);
  if (headerLength > MAX_PREFIX_VALUE) throw new RangeError(`header of ${headerLength} bytes cannot be framed`);
  const frame = Buffer.allocUnsafe(PREFIX_LENGTH + headerLength + content.length);
  frame.writeUInt16BE(headerLength, 0);
  frame.write(header, PREFIX_LENGTH);
  frame.set(content, PREFIX_LENGTH + headerLength);
  return frame;
}
