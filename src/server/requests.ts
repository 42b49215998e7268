import { decodeWholeFrame, FrameDecoder, type DecoderOptions } from '../protocol/decoder.js';
import { ErrorCode, ProtocolError, UnknownRequestError } from '../protocol/errors.js';
import { CLIENT_HEADER_KEYS, MessageType, type Frame } from '../protocol/frame.js';
import { encodeServerFrame, errorContent, isStatisticsRequest, statisticsText } from '../protocol/messages.js';
import { guarded, type SessionCore } from './session-core.js';

/**
 * Requests answered in one share of a turn. A peer that sends thousands of requests in one
 * packet gets the rest answered in its next shares, with reading paused meanwhile, so that its
 * flood costs others at most a share of the loop at a time.
 */
const REQUESTS_PER_SHARE = 16;
const NO_BYTES = Buffer.alloc(0);

/**
 * A connection's requests: decoded as they arrive, each answered at once (never held until the
 * next chunk: the original's flaw, fixed), and each frame that has begun given `--frame-timeout`
 * to complete.
 */
export class RequestReader {
  readonly #core: SessionCore;
  readonly #limits: DecoderOptions;
  readonly #decoder: FrameDecoder;
  #frameTimer: NodeJS.Timeout | undefined;
  /** Answers given in the current share. */
  #answered = 0;
  /** Whole requests are buffered beyond this share's: they wait for the next turn. */
  #backlogged = false;
  /** The peer has ended its side: what it sent before is answered now, in one go. */
  #finishing = false;

  constructor(core: SessionCore) {
    this.#core = core;
    const { config } = core.context;
    this.#limits = { maxHeaderLength: config.maxHeaderLength, maxContentLength: config.maxRequestLength, requiredKeys: CLIENT_HEADER_KEYS };
    this.#decoder = new FrameDecoder(this.#limits);
  }

  /** Whether requests wait for a share of a turn: reading stays paused until they are answered. */
  get backlogged(): boolean {
    return this.#backlogged;
  }

  onData(data: Buffer): void {
    this.#feed(data);
  }

  /**
   * One whole message (WebSocket): exactly one request frame, or the connection fails. A
   * message is never part of a frame, so it needs no frame timer; while reading is paused the
   * transport holds the messages that come.
   */
  onMessage(message: Buffer): void {
    const core = this.#core;
    core.transport.cork();
    try {
      this.#onFrame(decodeWholeFrame(message, this.#limits));
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      core.fail(error);
    } finally {
      core.transport.uncork();
    }
  }

  /** Goes on with the requests that waited: for a turn, or for the buffer to drain. */
  resume(): void {
    this.#feed(NO_BYTES);
  }

  /**
   * The peer ended its side: every whole request it sent is answered before ours ends too
   * (what is left is bounded by one read, so there are no turns to share).
   */
  finish(): void {
    this.#finishing = true;
    this.#feed(NO_BYTES);
  }

  /** While the peer does not read our answers, a frame it has begun is not its fault. */
  stopFrameTimer(): void {
    clearTimeout(this.#frameTimer);
    this.#frameTimer = undefined;
  }

  #feed(data: Buffer): void {
    const core = this.#core;
    const { transport } = core;
    this.#answered = 0;
    // Answers to the requests of one read leave in one write: many requests in one packet
    // must not cost one system call each.
    transport.cork();
    try {
      this.#decoder.push(data, this.#onFrame);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      core.fail(error);
      return;
    } finally {
      transport.uncork();
    }
    if (!core.open) return;
    // Stopped for its share, not for a full buffer: the rest waits for the next turn.
    const backlogged = !core.blocked && this.#answered >= REQUESTS_PER_SHARE && this.#decoder.buffered > 0;
    if (backlogged !== this.#backlogged) {
      this.#backlogged = backlogged;
      core.updateReading();
    }
    if (backlogged) core.wantTurn();
    if (this.#decoder.midFrame && !core.blocked && !backlogged) this.#startFrameTimer();
    else this.stopFrameTimer();
  }

  readonly #onFrame = (frame: Frame): boolean => {
    const core = this.#core;
    if (!core.open) return false;
    // Each frame gets the whole timeout: a frame that began in this read starts a new one.
    this.stopFrameTimer();
    const { emit } = core.context;
    emit({ type: 'request', peer: core.peer, header: frame.header, content: frame.content });
    if (isStatisticsRequest(frame)) {
      const count = core.counter.take();
      const content = Buffer.from(statisticsText(count), 'latin1');
      const answer = encodeServerFrame(MessageType.statistics, content, core.lastSleep);
      core.write(answer);
      emit({ type: 'statistics', peer: core.peer, count, content, frameBytes: answer.length });
    } else {
      const error = new UnknownRequestError(frame.content);
      emit({ type: 'protocol-error', peer: core.peer, error });
      core.write(encodeServerFrame(MessageType.error, errorContent(error), core.lastSleep));
    }
    // The rest stays buffered while the peer is not reading our answers, or for the next share.
    return core.open && !core.blocked && (++this.#answered < REQUESTS_PER_SHARE || this.#finishing);
  };

  #startFrameTimer(): void {
    this.#frameTimer ??= setTimeout(guarded, this.#core.context.config.frameTimeoutMs, this.#core, RequestReader.timedOut, this, undefined);
  }

  static timedOut(this: void, reader: RequestReader): void {
    reader.#frameTimer = undefined;
    const seconds = reader.#core.context.config.frameTimeoutMs / 1000;
    reader.#core.fail(new ProtocolError(ErrorCode.frameTimeout, `frame not completed within ${seconds} s`));
  }
}
