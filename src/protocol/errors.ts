/**
 * Errors a peer can cause. Each condition a caller may handle has its own class with a stable
 * `code`; the codes are part of the public interface (they travel in `error` frames, log lines
 * and counters) and are listed in docs/protocol.md.
 */

export const ErrorCode = {
  headerTooLong: 'ERR_HEADER_TOO_LONG',
  headerEncoding: 'ERR_HEADER_ENCODING',
  headerJson: 'ERR_HEADER_JSON',
  headerNotObject: 'ERR_HEADER_NOT_OBJECT',
  headerForbiddenKey: 'ERR_HEADER_FORBIDDEN_KEY',
  headerMissingKey: 'ERR_HEADER_MISSING_KEY',
  headerInvalidValue: 'ERR_HEADER_INVALID_VALUE',
  contentTooLong: 'ERR_CONTENT_TOO_LONG',
  unknownRequest: 'ERR_UNKNOWN_REQUEST',
  frameTimeout: 'ERR_FRAME_TIMEOUT',
  slowConsumer: 'ERR_SLOW_CONSUMER',
  serverFull: 'ERR_SERVER_FULL',
  proxyHeader: 'ERR_PROXY_HEADER',
  messageFraming: 'ERR_MESSAGE_FRAMING',
  messageType: 'ERR_MESSAGE_TYPE',
  statisticsInvalid: 'ERR_STATISTICS_INVALID',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Something a peer did that breaks the protocol or the server's limits. */
export class ProtocolError extends Error {
  override readonly name: string = 'ProtocolError';
  readonly code: ErrorCode;
  /** Whether the connection can go on after the peer has been told (only unknown requests). */
  readonly fatal: boolean;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; fatal?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.fatal = options?.fatal ?? true;
  }
}

export class HeaderTooLongError extends ProtocolError {
  override readonly name = 'HeaderTooLongError';
  constructor(
    readonly length: number,
    readonly limit: number,
  ) {
    super(ErrorCode.headerTooLong, `header length ${length} exceeds the limit of ${limit} bytes`);
  }
}

export class HeaderEncodingError extends ProtocolError {
  override readonly name = 'HeaderEncodingError';
  constructor(cause: unknown) {
    super(ErrorCode.headerEncoding, 'header is not valid UTF-8', { cause });
  }
}

export class HeaderJsonError extends ProtocolError {
  override readonly name = 'HeaderJsonError';
  constructor(cause: unknown) {
    super(ErrorCode.headerJson, 'header is not valid JSON', { cause });
  }
}

export class HeaderNotObjectError extends ProtocolError {
  override readonly name = 'HeaderNotObjectError';
  constructor(kind: string) {
    super(ErrorCode.headerNotObject, `header is JSON ${kind}, not an object`);
  }
}

export class HeaderForbiddenKeyError extends ProtocolError {
  override readonly name = 'HeaderForbiddenKeyError';
  constructor(readonly key: string) {
    super(ErrorCode.headerForbiddenKey, `header has the forbidden key "${key}"`);
  }
}

export class HeaderMissingKeyError extends ProtocolError {
  override readonly name = 'HeaderMissingKeyError';
  constructor(readonly key: string) {
    // The original's wording, so its users recognise it.
    super(ErrorCode.headerMissingKey, `Missing required header "${key}".`);
  }
}

export class HeaderInvalidValueError extends ProtocolError {
  override readonly name = 'HeaderInvalidValueError';
  constructor(
    readonly key: string,
    expected: string,
  ) {
    super(ErrorCode.headerInvalidValue, `header "${key}" must be ${expected}`);
  }
}

export class ContentTooLongError extends ProtocolError {
  override readonly name = 'ContentTooLongError';
  constructor(
    readonly length: number,
    readonly limit: number,
  ) {
    super(ErrorCode.contentTooLong, `content-length ${length} exceeds the limit of ${limit} bytes`);
  }
}

export class UnknownRequestError extends ProtocolError {
  override readonly name = 'UnknownRequestError';
  constructor(readonly request: Buffer) {
    super(ErrorCode.unknownRequest, `unknown request (only "s" is understood)`, { fatal: false });
  }
}

/**
 * A PROXY protocol header that is missing, malformed or over its limits. The spec asks for one
 * response to all of them (abort the connection), so they share one code; the message names
 * the problem, and never carries the peer's bytes unescaped.
 */
export class ProxyHeaderError extends ProtocolError {
  override readonly name = 'ProxyHeaderError';
  constructor(message: string) {
    super(ErrorCode.proxyHeader, message);
  }
}

/**
 * A message of a transport that carries one frame per message (the web port's WebSocket) that
 * is not exactly one frame: it ends inside it, or something follows it.
 */
export class MessageFramingError extends ProtocolError {
  override readonly name = 'MessageFramingError';
  constructor(
    readonly length: number,
    /** The frame's size, when the message got as far as saying it. */
    readonly frameSize: number | undefined,
  ) {
    super(
      ErrorCode.messageFraming,
      frameSize === undefined || length < frameSize
        ? `message of ${length} bytes ends inside its frame${frameSize === undefined ? '' : ` of ${frameSize} bytes`}`
        : `message of ${length} bytes holds a frame of ${frameSize} bytes and more`,
    );
  }
}

/** A text message where binary frames are expected, or the other way round (the web port). */
export class MessageTypeError extends ProtocolError {
  override readonly name = 'MessageTypeError';
  constructor(expected: 'binary' | 'text') {
    super(ErrorCode.messageType, `${expected === 'binary' ? 'text' : 'binary'} message where ${expected} messages are expected`);
  }
}

/** A statistics answer from a server that cannot be read: not the protocol's wording, or a count no server can have reached. */
export class StatisticsInvalidError extends ProtocolError {
  override readonly name = 'StatisticsInvalidError';
  constructor(
    /** The answer as it came: the output shows it, escaped. */
    readonly content: Buffer,
    why: string,
  ) {
    super(ErrorCode.statisticsInvalid, why, { fatal: false });
  }
}
