import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCharacterKey, keyAction, splitKeys } from '../../src/client/keys.js';

const CTRL_C = '\x03';
const CTRL_D = '\x04';
const ARROW_UP = '\x1b[A';
const F5 = '\x1b[15~';

void describe('keyAction', () => {
  for (const fromTerminal of [true, false]) {
    const source = fromTerminal ? 'a terminal' : 'a pipe';
    void it(`asks for statistics on 's' from ${source}`, () => {
      assert.equal(keyAction('s', fromTerminal), 'statistics');
    });
    void it(`quits on 'q' and on Ctrl-D from ${source}`, () => {
      assert.equal(keyAction('q', fromTerminal), 'quit');
      assert.equal(keyAction(CTRL_D, fromTerminal), 'quit');
    });
    void it(`treats Ctrl-C as an interrupt from ${source}`, () => {
      assert.equal(keyAction(CTRL_C, fromTerminal), 'interrupt');
    });
    void it(`does not take upper-case 'S' or 'Q' for 's' or 'q' from ${source}`, () => {
      assert.equal(keyAction('S', fromTerminal), 'hint');
      assert.equal(keyAction('Q', fromTerminal), 'hint');
    });
  }

  void it('shows the hint again for any other key from a terminal, white space and arrows included', () => {
    for (const key of ['x', '1', ' ', '\r', '\n', '\t', ARROW_UP, F5, '\x1b']) {
      assert.equal(keyAction(key, true), 'hint', JSON.stringify(key));
    }
  });

  void it('passes over white space from a pipe, which only separates letters', () => {
    for (const key of [' ', '\n', '\r', '\t']) {
      assert.equal(keyAction(key, false), 'ignore', JSON.stringify(key));
    }
  });

  void it('shows the hint for any other letter from a pipe', () => {
    assert.equal(keyAction('x', false), 'hint');
  });
});

void describe('splitKeys', () => {
  void it('gives one key per character', () => {
    assert.deepEqual(splitKeys('sq'), ['s', 'q']);
    assert.deepEqual(splitKeys('sss'), ['s', 's', 's']);
  });

  void it('gives nothing for an empty read', () => {
    assert.deepEqual(splitKeys(''), []);
  });

  void it('keeps an escape sequence as one key', () => {
    assert.deepEqual(splitKeys(ARROW_UP), [ARROW_UP]);
    assert.deepEqual(splitKeys(F5), [F5]);
  });

  void it('keeps a character outside the BMP as one key, not two halves', () => {
    assert.deepEqual(splitKeys('\u{1F600}s'), ['\u{1F600}', 's']);
  });

  // A fast typist or a paste can put an arrow and a letter in one read of a raw terminal.
  void it("does not lose an 's' typed right after an arrow key in the same read", () => {
    const keys = splitKeys(`${ARROW_UP}s`);
    assert.equal(keys.filter((key) => keyAction(key, true) === 'statistics').length, 1, JSON.stringify(keys));
  });

  void it("counts an arrow key typed right after 's' in the same read as one key, not three", () => {
    assert.deepEqual(splitKeys(`s${ARROW_UP}`), ['s', ARROW_UP]);
  });
});

void describe('isCharacterKey', () => {
  void it('takes letters, digits and control characters for characters, as the original does', () => {
    for (const key of ['s', 'q', 'x', 'S', '1', '\u{1F600}', '\x01']) assert.equal(isCharacterKey(key), true, JSON.stringify(key));
  });

  void it('takes arrows, function keys, Escape, Enter, Tab, Space and Backspace for keys without a character', () => {
    for (const key of [ARROW_UP, F5, '\x1b', '\x1bx', '\r', '\n', '\t', ' ', '\x7f']) assert.equal(isCharacterKey(key), false, JSON.stringify(key));
  });
});
