/**
 * The frame of the original multi-socket-apps: a 2-byte big-endian header length, a UTF-8 JSON
 * object header, then `content-length` bytes of content.
 */

export const PREFIX_LENGTH = 2;
/** The largest header length the 2-byte prefix can state. */
export const MAX_PREFIX_VALUE = 0xffff;

export const SERVER_CONTENT_TYPE = 'binary/custom-server-binary-type';
export const CLIENT_CONTENT_TYPE = 'binary/custom-client-binary-type';
export const CONTENT_ENCODING = 'binary';
/** The sender's native byte order; informational only, but the original requires the key. */
export const BYTE_ORDER: 'little' | 'big' = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 'little' : 'big';

/** Our extension: ignored by the original client, used by ours when present. */
export const MessageType = {
  symbols: 'symbols',
  statistics: 'statistics',
  error: 'error',
  shutdown: 'shutdown',
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** The one request the server understands. */
export const STATISTICS_REQUEST = 's';

/** Keys the original client requires from the server. */
export const SERVER_HEADER_KEYS = ['byteorder', 'content-length', 'content-type', 'content-encoding', 'sleep_time'] as const;
/** Keys the original server requires from the client. */
export const CLIENT_HEADER_KEYS = ['byteorder', 'content-length', 'content-type', 'content-encoding'] as const;

/** A decoded header: the keys every frame has, plus whatever else the sender put in. */
export interface FrameHeader {
  readonly byteorder: string;
  readonly 'content-type': string;
  readonly 'content-encoding': string;
  readonly 'content-length': number;
  readonly sleep_time?: number;
  readonly 'message-type'?: string;
  readonly [key: string]: unknown;
}

export interface Frame {
  readonly header: FrameHeader;
  readonly content: Buffer;
  /** Bytes the frame took on the wire, prefix included. */
  readonly size: number;
}
