/**
 * Frames built by hand, for bytes no encoder would write: a header that is not JSON, not
 * UTF-8, not an object, or lies about its length.
 */

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
