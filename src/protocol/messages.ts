import {
  BYTE_ORDER,
  CLIENT_CONTENT_TYPE,
  CONTENT_ENCODING,
  MessageType,
  SERVER_CONTENT_TYPE,
  STATISTICS_REQUEST,
  type Frame,
} from './frame.js';
import { encodeFrame, encodePrefixedHeader, joinFrame } from './encoder.js';
import { StatisticsInvalidError, type ProtocolError } from './errors.js';

/**
 * The messages of the protocol, built and recognised in one place so that the server, the
 * client and the load generator can never disagree about their form.
 */

const STATISTICS_PREFIX = 'Statistics: ';
const STATISTICS_PATTERN = /^Statistics: (\d+) symbols was delivered$/;

/** The statistics answer, letter for letter the original's (its grammar included). */
export function statisticsText(count: number): string {
  return `${STATISTICS_PREFIX}${count} symbols was delivered`;
}

/** The count in a statistics answer, or undefined when the content is not one. */
export function parseStatistics(content: Buffer): number | undefined {
  const match = STATISTICS_PATTERN.exec(content.toString('latin1'));
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/**
 * The count in a statistics answer, exactly, or the reason it cannot be read. A count above
 * 2^53 - 1 would lose digits as a number, and no server can have delivered that many symbols
 * (at a gigabyte a second, it would take a hundred days): it is an error, not a figure.
 */
export function readStatisticsCount(content: Buffer): number | StatisticsInvalidError {
  const digits = STATISTICS_PATTERN.exec(content.toString('latin1'))?.[1];
  if (digits === undefined) {
    return new StatisticsInvalidError(content, `statistics answer not in the form '${statisticsText(0).replace('0', 'N')}'`);
  }
  const count = Number(digits);
  if (!Number.isSafeInteger(count)) return new StatisticsInvalidError(content, 'statistics answer with a count too large to be real');
  return count;
}

/**
 * Server headers already encoded, by message type, content length and wait. A server sends the
 * same few headers over and over (1-5 symbols times 1-5 seconds: 25 of them by default), and
 * building JSON for each chunk would cost more than everything else it does for that chunk.
 */
const serverHeaders = new Map<string, Buffer>();
const MAX_CACHED_HEADERS = 4096;

/**
 * The prefix and header of a server frame, cached: what a frame needs before its content.
 * The session writes chunk frames straight into one buffer with it, a burst at a time.
 */
export function serverFrameHead(type: MessageType, contentLength: number, sleepTime: number): Buffer {
  const key = `${type} ${contentLength} ${sleepTime}`;
  let head = serverHeaders.get(key);
  if (head === undefined) {
    head = encodePrefixedHeader({
      byteorder: BYTE_ORDER,
      'content-type': SERVER_CONTENT_TYPE,
      'content-encoding': CONTENT_ENCODING,
      'content-length': contentLength,
      sleep_time: sleepTime,
      'message-type': type,
    });
    // Fractional intervals make many distinct waits: keep the cache bounded.
    if (serverHeaders.size >= MAX_CACHED_HEADERS) serverHeaders.clear();
    serverHeaders.set(key, head);
  }
  return head;
}

/** A server frame; `sleepTime` is the wait before it, in seconds, as the original reports it. */
export function encodeServerFrame(type: MessageType, content: Uint8Array, sleepTime: number): Buffer {
  return joinFrame(serverFrameHead(type, content.length, sleepTime), content);
}

export function encodeClientRequest(request: string = STATISTICS_REQUEST): Buffer {
  return encodeClientFrame(Buffer.from(request, 'latin1'));
}

/** A client frame around any content: a request, understood or not. */
export function encodeClientFrame(content: Uint8Array): Buffer {
  return encodeFrame(
    {
      byteorder: BYTE_ORDER,
      'content-type': CLIENT_CONTENT_TYPE,
      'content-encoding': CONTENT_ENCODING,
      'content-length': content.length,
    },
    content,
  );
}

/**
 * What a server frame is. Our server says so in `message-type`; the original does not, and its
 * statistics answers are told apart by their prefix (random chunks never hold `:` or a space).
 */
export function messageTypeOf(frame: Frame): MessageType {
  const declared = frame.header['message-type'];
  if (declared === MessageType.symbols || declared === MessageType.statistics) return declared;
  if (declared === MessageType.error || declared === MessageType.shutdown) return declared;
  return frame.content.subarray(0, STATISTICS_PREFIX.length).toString('latin1') === STATISTICS_PREFIX
    ? MessageType.statistics
    : MessageType.symbols;
}

export function isStatisticsRequest(frame: Frame): boolean {
  return frame.content.length === 1 && frame.content[0] === STATISTICS_REQUEST.charCodeAt(0);
}

/** What an `error` frame says: the stable code first, so scripts and the original client both can read it. */
export function errorContent(error: ProtocolError): Buffer {
  return Buffer.from(`${error.code}: ${error.message}`, 'latin1');
}
