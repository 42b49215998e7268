import assert from 'node:assert/strict';
import { endianness } from 'node:os';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FrameDecoder } from '../../src/protocol/decoder.js';
import {
  BYTE_ORDER,
  CLIENT_HEADER_KEYS,
  MessageType,
  SERVER_HEADER_KEYS,
  type Frame,
} from '../../src/protocol/frame.js';
import {
  encodeClientRequest,
  encodeServerFrame,
  isStatisticsRequest,
  messageTypeOf,
  parseStatistics,
  statisticsText,
} from '../../src/protocol/messages.js';
import { serverFrame } from '../support/frames.js';
import { WIRE_FIXTURES, fixtureBytes, type WireFixture } from './wire-fixtures.js';

function fixture(name: string): WireFixture {
  const found = WIRE_FIXTURES.find((f) => f.name === name);
  assert.ok(found, `no fixture "${name}"`);
  return found;
}

function decodeOne(bytes: Buffer, requiredKeys: readonly string[]): Frame {
  const decoder = new FrameDecoder({ maxHeaderLength: 1024, maxContentLength: 1 << 20, requiredKeys });
  const frames: Frame[] = [];
  decoder.push(bytes, (frame) => void frames.push(frame));
  assert.equal(frames.length, 1);
  return frames[0] as Frame;
}

void describe('statisticsText and parseStatistics', () => {
  void it("writes the original's answer letter for letter", () => {
    assert.equal(statisticsText(8), 'Statistics: 8 symbols was delivered');
    assert.equal(statisticsText(0), 'Statistics: 0 symbols was delivered');
  });

  void it("reads the count of the original's answer", () => {
    assert.equal(parseStatistics(Buffer.from('Statistics: 8 symbols was delivered')), 8);
    assert.equal(parseStatistics(Buffer.from('Statistics: 0 symbols was delivered')), 0);
  });

  void it('round-trips every safe count', () => {
    fc.assert(
      fc.property(fc.nat({ max: Number.MAX_SAFE_INTEGER }), (count) => {
        assert.equal(parseStatistics(Buffer.from(statisticsText(count), 'latin1')), count);
      }),
      { numRuns: 300 },
    );
  });

  const nearMisses = [
    '',
    'Statistics: ',
    'Statistics:  symbols was delivered',
    'Statistics: 8 symbols were delivered',
    'Statistics: 8 symbol was delivered',
    'statistics: 8 symbols was delivered',
    'Statistics:8 symbols was delivered',
    'Statistics:  8 symbols was delivered',
    ' Statistics: 8 symbols was delivered',
    'Statistics: 8 symbols was delivered ',
    'Statistics: 8 symbols was delivered\n',
    'Statistics: 8 symbols was delivered.',
    'Statistics: -8 symbols was delivered',
    'Statistics: 8.5 symbols was delivered',
    'Statistics: eight symbols was delivered',
    'Statistics: 1e3 symbols was delivered',
    'xStatistics: 8 symbols was delivered',
    'td3kk',
  ];
  for (const text of nearMisses) {
    void it(`rejects the near miss ${JSON.stringify(text)}`, () => {
      assert.equal(parseStatistics(Buffer.from(text, 'latin1')), undefined);
    });
  }

  void it('rejects non-ASCII digits', () => {
    assert.equal(parseStatistics(Buffer.from('Statistics: \uff18 symbols was delivered', 'utf8')), undefined);
    assert.equal(parseStatistics(Buffer.from('Statistics: \u0668 symbols was delivered', 'utf8')), undefined);
  });
});

void describe('encodeServerFrame', () => {
  void it('builds a frame that the original client accepts: every key it requires, in its order', () => {
    const frame = decodeOne(encodeServerFrame(MessageType.symbols, Buffer.from('td3kk'), 3), SERVER_HEADER_KEYS);
    assert.deepEqual(Object.keys(frame.header), [
      'byteorder',
      'content-type',
      'content-encoding',
      'content-length',
      'sleep_time',
      'message-type',
    ]);
    assert.equal(frame.header.byteorder, BYTE_ORDER);
    assert.equal(frame.header['content-type'], 'binary/custom-server-binary-type');
    assert.equal(frame.header['content-encoding'], 'binary');
    assert.equal(frame.header['content-length'], 5);
    assert.equal(frame.header.sleep_time, 3);
    assert.equal(frame.header['message-type'], 'symbols');
    assert.equal(frame.content.toString('latin1'), 'td3kk');
  });

  void it('names the byte order of this machine', () => {
    assert.equal(BYTE_ORDER, endianness() === 'LE' ? 'little' : 'big');
  });

  const samples: Array<[string, MessageType, string, number]> = [
    ['chunk with a fractional sleep_time and message-type', MessageType.symbols, 'Zq', 0.25],
    ['statistics answer with message-type', MessageType.statistics, 'Statistics: 0 symbols was delivered', 1],
    ['error frame', MessageType.error, 'server full', 0],
  ];
  for (const [name, type, content, sleep] of samples) {
    void it(`is byte for byte the Python-encoded "${name}"`, (t) => {
      if (BYTE_ORDER !== 'little') return t.skip('the fixture was written on a little-endian machine');
      assert.deepEqual(encodeServerFrame(type, Buffer.from(content, 'latin1'), sleep), fixtureBytes(fixture(name)));
    });
  }
});

void describe('encodeClientRequest', () => {
  void it("is byte for byte the original client's 's' request", (t) => {
    if (BYTE_ORDER !== 'little') return t.skip('the fixture was written on a little-endian machine');
    assert.deepEqual(encodeClientRequest(), fixtureBytes(fixture('original client statistics request')));
  });

  void it('carries other content when asked, with the keys the original server requires', () => {
    const frame = decodeOne(encodeClientRequest('xyz'), CLIENT_HEADER_KEYS);
    assert.equal(frame.content.toString('latin1'), 'xyz');
    assert.equal(frame.header['content-length'], 3);
    assert.equal(frame.header['content-type'], 'binary/custom-client-binary-type');
    assert.equal(frame.header.sleep_time, undefined);
  });
});

void describe('messageTypeOf', () => {
  void it('takes message-type when the server declares it', () => {
    assert.equal(messageTypeOf(serverFrame('abc', { 'message-type': 'symbols' })), 'symbols');
    assert.equal(messageTypeOf(serverFrame('Statistics: 3 symbols was delivered', { 'message-type': 'statistics' })), 'statistics');
    assert.equal(messageTypeOf(serverFrame('server full', { 'message-type': 'error' })), 'error');
    assert.equal(messageTypeOf(serverFrame('bye', { 'message-type': 'shutdown' })), 'shutdown');
  });

  void it('believes a declared type over the content', () => {
    assert.equal(messageTypeOf(serverFrame('Statistics: 3 symbols was delivered', { 'message-type': 'error' })), 'error');
  });

  void it("tells the original server's statistics answer by its prefix", () => {
    const frame = decodeOne(fixtureBytes(fixture('original statistics answer')), SERVER_HEADER_KEYS);
    assert.equal(messageTypeOf(frame), 'statistics');
  });

  void it("takes the original server's chunk for symbols", () => {
    const frame = decodeOne(fixtureBytes(fixture('original server chunk')), SERVER_HEADER_KEYS);
    assert.equal(messageTypeOf(frame), 'symbols');
  });

  void it('falls back to the prefix when message-type holds a value it does not know', () => {
    assert.equal(messageTypeOf(serverFrame('Statistics: 1 symbols was delivered', { 'message-type': 'future' })), 'statistics');
    assert.equal(messageTypeOf(serverFrame('abc', { 'message-type': 'future' })), 'symbols');
  });

  void it('does not take a chunk that merely starts like the prefix for statistics', () => {
    assert.equal(messageTypeOf(serverFrame('Statistics')), 'symbols');
    assert.equal(messageTypeOf(serverFrame('Statistics:')), 'symbols');
    assert.equal(messageTypeOf(serverFrame('')), 'symbols');
  });
});

void describe('isStatisticsRequest', () => {
  void it("is true for exactly one byte 's'", () => {
    assert.equal(isStatisticsRequest(serverFrame('s')), true);
  });

  for (const content of ['', 'S', 'ss', 's ', ' s', 'q', 's\n']) {
    void it(`is false for ${JSON.stringify(content)}`, () => {
      assert.equal(isStatisticsRequest(serverFrame(content)), false);
    });
  }
});
