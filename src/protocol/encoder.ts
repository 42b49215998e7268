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
  return joinFrame(encodePrefixedHeader(fields), content);
}

/** The prefix and the header of a frame, ready to be followed by its content. */
export function encodePrefixedHeader(fields: HeaderFields): Buffer {
  const header = encodeHeader(fields);
  const headerLength = Buffer.byteLength(header);
  if (headerLength > MAX_PREFIX_VALUE) throw new RangeError(`header of ${headerLength} bytes cannot be framed`);
  const prefixed = Buffer.allocUnsafe(PREFIX_LENGTH + headerLength);
  prefixed.writeUInt16BE(headerLength, 0);
  prefixed.write(header, PREFIX_LENGTH);
  return prefixed;
}

/** One buffer holding an encoded prefix and header, then the content. */
export function joinFrame(prefixedHeader: Uint8Array, content: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(prefixedHeader.length + content.length);
  frame.set(prefixedHeader, 0);
  frame.set(content, prefixedHeader.length);
  return frame;
}
