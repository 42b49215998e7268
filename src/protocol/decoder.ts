import {
  ContentTooLongError,
  HeaderEncodingError,
  HeaderForbiddenKeyError,
  HeaderInvalidValueError,
  HeaderJsonError,
  HeaderMissingKeyError,
  HeaderNotObjectError,
  HeaderTooLongError,
  MessageFramingError,
  ProtocolError,
} from './errors.js';
import { PREFIX_LENGTH, type Frame, type FrameHeader } from './frame.js';

export interface DecoderLimits {
  /** Largest header the reader accepts, in bytes (the prefix itself allows 65535). */
  readonly maxHeaderLength: number;
  /** Largest content the reader accepts, in bytes. */
  readonly maxContentLength: number;
}

export interface DecoderOptions extends DecoderLimits {
  /** Keys every header must carry (the original drops the connection when one is missing). */
  readonly requiredKeys: readonly string[];
}

/** Receives each decoded frame; returning false stops the decoder until the next push. */
export type FrameHandler = (frame: Frame) => boolean | void;

const State = {
  awaitingPrefix: 0,
  awaitingHeader: 1,
  awaitingContent: 2,
  failed: 3,
} as const;
type State = (typeof State)[keyof typeof State];

/** Keys that would reach Object.prototype machinery if a header ever met a careless merge. */
const FORBIDDEN_KEYS = ['__proto__', 'constructor', 'prototype'];
/** Headers are flat; an extension may nest a little, nothing legitimate nests deeper. */
const MAX_HEADER_DEPTH = 4;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Turns a byte stream into frames, whatever the split of the stream into chunks.
 *
 * A state machine over a list of buffered chunks: each state returns early until it has the
 * bytes it needs, and every length is checked against its limit as soon as it is known, so a
 * peer can never make the decoder buffer more than one header limit plus one content limit.
 * Bytes are copied only when a piece spans chunks.
 */
export class FrameDecoder {
  readonly #options: DecoderOptions;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #state: State = State.awaitingPrefix;
  #headerLength = 0;
  #header: FrameHeader | undefined;
  #error: ProtocolError | undefined;

  constructor(options: DecoderOptions) {
    this.#options = options;
  }

  /** Bytes received but not yet part of a whole frame. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Whether a frame has begun and not ended: the peer owes the rest of it. */
  get midFrame(): boolean {
    return this.#buffered > 0 || this.#state !== State.awaitingPrefix;
  }

  /**
   * Feeds bytes in; calls `onFrame` for each frame they complete, in order. Throws a
   * ProtocolError at the first malformed frame (after delivering the frames before it); the
   * decoder then stays failed, since the stream can no longer be framed.
   *
   * `onFrame` may return false to stop early (a reader applying backpressure): the rest stays
   * buffered until the next push, which may be empty.
   */
  push(chunk: Buffer, onFrame: FrameHandler): void {
    if (this.#error !== undefined) throw this.#error;
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
    try {
      this.#drain(onFrame);
    } catch (error) {
      if (error instanceof ProtocolError) this.#fail(error);
      throw error;
    }
  }

  #drain(onFrame: FrameHandler): void {
    for (;;) {
      switch (this.#state) {
        case State.awaitingPrefix: {
          if (this.#buffered < PREFIX_LENGTH) return;
          const length = this.#take(PREFIX_LENGTH).readUInt16BE(0);
          if (length > this.#options.maxHeaderLength) {
            throw new HeaderTooLongError(length, this.#options.maxHeaderLength);
          }
          this.#headerLength = length;
          this.#state = State.awaitingHeader;
          break;
        }
        case State.awaitingHeader: {
          if (this.#buffered < this.#headerLength) return;
          this.#header = parseHeader(this.#take(this.#headerLength), this.#options);
          this.#state = State.awaitingContent;
          break;
        }
        case State.awaitingContent: {
          const header = this.#header as FrameHeader;
          const length = header['content-length'];
          if (this.#buffered < length) return;
          const content = this.#take(length);
          this.#header = undefined;
          this.#state = State.awaitingPrefix;
          if (onFrame({ header, content, size: PREFIX_LENGTH + this.#headerLength + length }) === false) return;
          break;
        }
        case State.failed:
          return;
      }
    }
  }

  #fail(error: ProtocolError): void {
    this.#error = error;
    this.#state = State.failed;
    this.#chunks = [];
    this.#buffered = 0;
    this.#header = undefined;
  }

  /** Removes exactly `n` buffered bytes from the front (the caller checked they are there). */
  #take(n: number): Buffer {
    this.#buffered -= n;
    const first = this.#chunks[0];
    if (first === undefined) return Buffer.alloc(0);
    if (first.length === n) {
      this.#chunks.shift();
      return first;
    }
    if (first.length > n) {
      this.#chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[0] as Buffer;
      const wanted = n - filled;
      if (chunk.length <= wanted) {
        chunk.copy(out, filled);
        filled += chunk.length;
        this.#chunks.shift();
      } else {
        chunk.copy(out, filled, 0, wanted);
        this.#chunks[0] = chunk.subarray(wanted);
        filled = n;
      }
    }
    return out;
  }
}

/**
 * Decodes a message that must hold exactly one frame, as every message of the web port's
 * WebSocket does: the stream decoder's checks in the same order (each length against its limit
 * as soon as it is known), and then that nothing is missing and nothing follows.
 */
export function decodeWholeFrame(message: Buffer, options: DecoderOptions): Frame {
  if (message.length < PREFIX_LENGTH) throw new MessageFramingError(message.length, undefined);
  const headerLength = message.readUInt16BE(0);
  if (headerLength > options.maxHeaderLength) throw new HeaderTooLongError(headerLength, options.maxHeaderLength);
  const contentStart = PREFIX_LENGTH + headerLength;
  if (message.length < contentStart) throw new MessageFramingError(message.length, undefined);
  const header = parseHeader(message.subarray(PREFIX_LENGTH, contentStart), options);
  const size = contentStart + header['content-length'];
  if (message.length !== size) throw new MessageFramingError(message.length, size);
  return { header, content: message.subarray(contentStart), size };
}

/** Decodes and checks one header; pure, so each rule can be tested on its own. */
export function parseHeader(bytes: Buffer, options: DecoderOptions): FrameHeader {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch (cause) {
    throw new HeaderEncodingError(cause);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new HeaderJsonError(cause);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HeaderNotObjectError(value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);
  }
  const header = value as Record<string, unknown>;
  for (const key of FORBIDDEN_KEYS) {
    if (Object.hasOwn(header, key)) throw new HeaderForbiddenKeyError(key);
  }
  if (depth(header, MAX_HEADER_DEPTH + 1) > MAX_HEADER_DEPTH) {
    throw new HeaderInvalidValueError('header', `nested at most ${MAX_HEADER_DEPTH} levels deep`);
  }
  for (const key of options.requiredKeys) {
    if (!Object.hasOwn(header, key)) throw new HeaderMissingKeyError(key);
  }
  checkString(header, 'byteorder');
  checkString(header, 'content-type');
  checkString(header, 'content-encoding');
  checkString(header, 'message-type');
  const length = header['content-length'];
  if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) {
    throw new HeaderInvalidValueError('content-length', 'a non-negative integer');
  }
  if (length > options.maxContentLength) throw new ContentTooLongError(length, options.maxContentLength);
  const sleep = header['sleep_time'];
  if (sleep !== undefined && (typeof sleep !== 'number' || !Number.isFinite(sleep) || sleep < 0)) {
    throw new HeaderInvalidValueError('sleep_time', 'a non-negative number');
  }
  return header as FrameHeader;
}

function checkString(header: Record<string, unknown>, key: string): void {
  const value = header[key];
  if (value !== undefined && typeof value !== 'string') throw new HeaderInvalidValueError(key, 'a string');
}

/** Nesting depth of a JSON value, counted no further than `limit` so hostile input stays cheap. */
function depth(value: unknown, limit: number): number {
  if (typeof value !== 'object' || value === null || limit === 0) return 0;
  let deepest = 0;
  for (const child of Object.values(value)) {
    deepest = Math.max(deepest, depth(child, limit - 1));
    if (deepest >= limit - 1) break;
  }
  return deepest + 1;
}
