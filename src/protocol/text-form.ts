import { MessageType, PREFIX_LENGTH, type FrameHeader } from './frame.js';
import { encodeClientFrame, messageTypeOf } from './messages.js';

/**
 * The protocol's text form, spoken on the web port's `/ws/text` for generic tools (wscat, a
 * browser console): each server frame becomes one line of text, and each text a client sends
 * stands for the request frame with that content. PROTOCOL.md, section "WebSocket".
 */

/** What a server frame of ours says, without a limit check: it is ours, already checked. */
export interface ServerMessage {
  readonly type: MessageType;
  readonly content: Buffer;
}

/** Reads one whole frame that this server encoded. */
export function readServerFrame(frame: Buffer): ServerMessage {
  const headerLength = frame.readUInt16BE(0);
  const contentStart = PREFIX_LENGTH + headerLength;
  const header = JSON.parse(frame.toString('utf8', PREFIX_LENGTH, contentStart)) as FrameHeader;
  const content = frame.subarray(contentStart);
  return { type: messageTypeOf({ header, content, size: frame.length }), content };
}

/**
 * A server frame as text: a chunk is its symbols alone (`td3kk`), a statistics answer its
 * sentence, an error `error: CODE: reason`, a shutdown `shutdown: reason`.
 */
export function serverFrameText(frame: Buffer): string {
  const { type, content } = readServerFrame(frame);
  const text = content.toString('latin1');
  switch (type) {
    case MessageType.symbols:
    case MessageType.statistics:
      return text;
    case MessageType.error:
    case MessageType.shutdown:
      return `${type}: ${text}`;
  }
}

/** The request frame a client's text stands for: `s` asks for statistics, anything else is an unknown request. */
export function textRequestFrame(text: Buffer): Buffer {
  return encodeClientFrame(text);
}
