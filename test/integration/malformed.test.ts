import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/protocol/errors.js';
import { MessageType } from '../../src/protocol/frame.js';
import { encodeClientRequest } from '../../src/protocol/messages.js';
import { lengthPrefix, rawFrame } from '../support/frames.js';
import { assertServerHeader, TestServer, type RawClient } from '../support/net.js';

const header = (fields: Record<string, unknown>): string => JSON.stringify(fields);
const valid = { byteorder: 'little', 'content-type': 'binary/custom-client-binary-type', 'content-encoding': 'binary' };

interface Case {
  readonly name: string;
  readonly bytes: Buffer;
  readonly code: string;
  /** Something the error frame's text must say about the problem. */
  readonly mentions?: string;
  /** Statistics requests before the bad frame, each answered before the error. */
  readonly answered?: number;
}

// Where a length alone is wrong, only the bytes up to it are sent: the limit must be checked as
// soon as the length is known, not after waiting for bytes that will never come.
const CASES: readonly Case[] = [
  { name: 'header length over the limit (65535)', bytes: lengthPrefix(0xffff), code: ErrorCode.headerTooLong, mentions: '65535' },
  { name: 'header length one over the limit', bytes: lengthPrefix(1025), code: ErrorCode.headerTooLong, mentions: '1025' },
  { name: 'header that is not JSON', bytes: rawFrame('{not json}'), code: ErrorCode.headerJson },
  { name: 'header cut inside a JSON string', bytes: rawFrame('{"byteorder": "lit'), code: ErrorCode.headerJson },
  { name: 'header that is not UTF-8', bytes: rawFrame(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), code: ErrorCode.headerEncoding },
  { name: 'header that is a JSON array', bytes: rawFrame('[1, 2]'), code: ErrorCode.headerNotObject, mentions: 'array' },
  { name: 'header that is a JSON number', bytes: rawFrame('42'), code: ErrorCode.headerNotObject },
  { name: 'header that is JSON null', bytes: rawFrame('null'), code: ErrorCode.headerNotObject },
  {
    name: 'header without content-type',
    bytes: rawFrame(header({ byteorder: 'little', 'content-encoding': 'binary', 'content-length': 1 }), Buffer.from('s')),
    code: ErrorCode.headerMissingKey,
    mentions: 'content-type',
  },
  {
    name: 'header without content-length',
    bytes: rawFrame(header(valid), Buffer.from('s')),
    code: ErrorCode.headerMissingKey,
    mentions: 'content-length',
  },
  {
    name: 'content-length over the limit',
    bytes: rawFrame(header({ ...valid, 'content-length': 1025 })),
    code: ErrorCode.contentTooLong,
    mentions: '1025',
  },
  {
    name: 'content-length of 2^53',
    bytes: rawFrame(header({ ...valid, 'content-length': 2 ** 53 })),
    code: ErrorCode.headerInvalidValue,
    mentions: 'content-length',
  },
  {
    name: 'negative content-length',
    bytes: rawFrame(header({ ...valid, 'content-length': -1 })),
    code: ErrorCode.headerInvalidValue,
    mentions: 'content-length',
  },
  {
    name: 'content-length as a string',
    bytes: rawFrame(header({ ...valid, 'content-length': '1' }), Buffer.from('s')),
    code: ErrorCode.headerInvalidValue,
    mentions: 'content-length',
  },
  {
    name: 'fractional content-length',
    bytes: rawFrame(header({ ...valid, 'content-length': 0.5 })),
    code: ErrorCode.headerInvalidValue,
    mentions: 'content-length',
  },
  {
    name: 'header with a __proto__ key',
    bytes: rawFrame(`{"__proto__": {"x": 1}, "byteorder": "little", "content-type": "binary/custom-client-binary-type", "content-encoding": "binary", "content-length": 1}`, Buffer.from('s')),
    code: ErrorCode.headerForbiddenKey,
    mentions: '__proto__',
  },
  {
    name: 'malformed frame right behind a valid request in the same write',
    bytes: Buffer.concat([encodeClientRequest('s'), rawFrame('[]')]),
    code: ErrorCode.headerNotObject,
    answered: 1,
  },
];

void describe('a malformed frame closes only its own connection', () => {
  let server: TestServer;
  let bystander: RawClient;
  before(async () => {
    // The frame timeout is far beyond every wait here, so no error below can come from it.
    server = await TestServer.start({ interval: { min: 0.01, max: 0.03 }, frameTimeoutMs: 20_000 });
    bystander = await server.connect();
  });
  after(() => server.stop());

  for (const { name, bytes, code, mentions, answered = 0 } of CASES) {
    void it(`${name}: ${code}, then closed`, async () => {
      const offender = await server.connect();
      await offender.write(bytes);
      const error = await offender.nextFrame(MessageType.error);
      assertServerHeader(error, MessageType.error);
      const text = error.content.toString('latin1');
      assert.ok(text.startsWith(`${code}: `), `error frame says ${JSON.stringify(text)}, expected the code ${code}`);
      if (mentions !== undefined) assert.ok(text.includes(mentions), `error frame ${JSON.stringify(text)} does not mention ${mentions}`);

      await offender.waitClosed();
      assert.ok(offender.endedByPeer, 'the server ended the connection');
      assert.equal(offender.history.at(-1), error, 'the error frame is the last frame');
      assert.equal(offender.answers.length, answered, 'requests before the bad frame are answered');
      for (const answer of offender.answers) assert.equal(answer.count, answer.receivedSinceLast);
      const event = await server.waitForEvent('protocol-error', { client: offender });
      assert.equal(event.error.code, code);
      await server.waitForEvent('closed', { client: offender });

      // The bystander was not disturbed: it goes on receiving chunks.
      bystander.clearQueue();
      const chunk = await bystander.nextFrame(MessageType.symbols);
      assert.ok(chunk.at > error.at);
      assert.equal(bystander.isClosed, false);
    });
  }

  void it('leaves the bystander with exact statistics and no error', async () => {
    const answer = await bystander.statistics();
    assert.equal(answer.count, answer.receivedSinceLast);
    assert.ok(answer.count > 0);
    assert.equal(bystander.history.filter((frame) => frame.type === MessageType.error).length, 0);
    assert.equal(server.eventsOf('protocol-error', bystander).length, 0);
    assert.equal(server.server.clients, 1);
  });
});
