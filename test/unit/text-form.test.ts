import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeWholeFrame } from '../../src/protocol/decoder.js';
import { ErrorCode, ProtocolError } from '../../src/protocol/errors.js';
import { CLIENT_HEADER_KEYS, MessageType } from '../../src/protocol/frame.js';
import { encodeClientRequest, encodeServerFrame, errorContent, isStatisticsRequest, statisticsText } from '../../src/protocol/messages.js';
import { serverFrameText, textRequestFrame } from '../../src/protocol/text-form.js';
import { closeFor } from '../../src/transport/websocket.js';

const frame = (type: MessageType, content: string): Buffer => encodeServerFrame(type, Buffer.from(content, 'latin1'), 2);
const error = (code: ProtocolError['code'], message: string): Buffer => encodeServerFrame(MessageType.error, errorContent(new ProtocolError(code, message)), 0);

void describe('the text form of /ws/text', () => {
  void it('shows a chunk as its symbols alone, whatever they are', () => {
    assert.equal(serverFrameText(frame(MessageType.symbols, 'td3kk')), 'td3kk');
    assert.equal(serverFrameText(frame(MessageType.symbols, '<a&"b>')), '<a&"b>');
  });

  void it('shows a statistics answer as its sentence, an error and a shutdown with their word first', () => {
    assert.equal(serverFrameText(frame(MessageType.statistics, statisticsText(7))), 'Statistics: 7 symbols was delivered');
    assert.equal(serverFrameText(error(ErrorCode.slowConsumer, 'slow')), 'error: ERR_SLOW_CONSUMER: slow');
    assert.equal(serverFrameText(frame(MessageType.shutdown, 'server shutting down (SIGTERM)')), 'shutdown: server shutting down (SIGTERM)');
  });

  void it('turns a text into the request frame with that content: `s` is the statistics request', () => {
    const request = decodeWholeFrame(textRequestFrame(Buffer.from('s')), { maxHeaderLength: 1024, maxContentLength: 1024, requiredKeys: CLIENT_HEADER_KEYS });
    assert.ok(isStatisticsRequest(request));
    assert.deepEqual(textRequestFrame(Buffer.from('s')), encodeClientRequest('s'));
    const other = decodeWholeFrame(textRequestFrame(Buffer.from('héllo')), { maxHeaderLength: 1024, maxContentLength: 1024, requiredKeys: CLIENT_HEADER_KEYS });
    assert.equal(other.content.toString('utf8'), 'héllo');
  });
});

void describe('the close code each last frame calls for', () => {
  const cases: readonly [string, Buffer | undefined, number][] = [
    ['nothing', undefined, 1000],
    ['a shutdown', frame(MessageType.shutdown, 'server shutting down'), 1001],
    ['a text message where binary is expected', error(ErrorCode.messageType, 'text message where binary messages are expected'), 1003],
    ['a malformed frame', error(ErrorCode.headerJson, 'header is not valid JSON'), 1008],
    ['a message that is not one frame', error(ErrorCode.messageFraming, 'message of 3 bytes ends inside its frame'), 1008],
    ['a slow consumer', error(ErrorCode.slowConsumer, 'client read nothing for 30 s'), 1008],
    ['a frame timeout', error(ErrorCode.frameTimeout, 'frame not completed within 10 s'), 1008],
    ['content over the limit', error(ErrorCode.contentTooLong, 'content-length 2000 exceeds the limit of 1024 bytes'), 1009],
    ['a header over the limit', error(ErrorCode.headerTooLong, 'header length 5000 exceeds the limit of 1024 bytes'), 1009],
    ['a full server', error(ErrorCode.serverFull, 'server full (10 clients)'), 1013],
  ];
  for (const [what, last, code] of cases) {
    void it(`${what}: ${code}`, () => {
      const close = closeFor(last);
      assert.equal(close.code, code);
      if (last !== undefined && code !== 1001) assert.match(close.reason, /^ERR_[A-Z_]+: /, 'the reason names the code');
    });
  }

  void it('keeps the reason within the 123 bytes a close frame allows', () => {
    const close = closeFor(error(ErrorCode.headerJson, 'x'.repeat(500)));
    assert.equal(Buffer.byteLength(close.reason), 123);
    assert.ok(close.reason.startsWith('ERR_HEADER_JSON: x'));
  });
});
