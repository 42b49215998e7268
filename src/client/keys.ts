/** What a key press asks for. */
export type KeyAction = 'statistics' | 'quit' | 'interrupt' | 'hint' | 'ignore';

const CTRL_C = '\x03';
const CTRL_D = '\x04';
const ESCAPE = '\x1b';

/**
 * Turns one key into an action. From a terminal every key counts: anything but `s`, `q`,
 * Ctrl-D and Ctrl-C shows the hint again. From a pipe or a file (a script), white space
 * only separates letters and is passed over.
 */
export function keyAction(key: string, fromTerminal: boolean): KeyAction {
  switch (key) {
    case 's':
      return 'statistics';
    case 'q':
    case CTRL_D:
      return 'quit';
    case CTRL_C:
      return 'interrupt';
    default:
      return !fromTerminal && key.trim() === '' ? 'ignore' : 'hint';
  }
}

/** Keys the original's keyboard library reports as a named key, with no character: Enter, Tab, Space, Backspace. */
const NAMED_KEYS: ReadonlySet<string> = new Set(['\r', '\n', '\t', ' ', '\x7f', '\b']);

/**
 * Whether a key press is a character, as the original tells them apart: an arrow, a function
 * key, Escape, Enter, Tab, Space or Backspace is not (the original then says
 * `be careful with excess pressing, young man`).
 */
export function isCharacterKey(key: string): boolean {
  return !key.startsWith(ESCAPE) && !NAMED_KEYS.has(key);
}

/**
 * Splits what one read of a raw terminal gave into key presses. An escape sequence (an arrow,
 * a function key: ESC, then `[` or `O`, parameters, and a final letter or `~`) or an Alt
 * chord (ESC and one character) is one press; anything else is one press per character. Fast
 * typing and pastes put several presses in one read, so sequences are found anywhere in it.
 */
export function splitKeys(data: string): string[] {
  const keys: string[] = [];
  for (let i = 0; i < data.length; ) {
    const length = data[i] === ESCAPE ? escapeLength(data, i) : (data.codePointAt(i) as number) > 0xffff ? 2 : 1;
    keys.push(data.slice(i, i + length));
    i += length;
  }
  return keys;
}

/** Length of the escape sequence starting at `start` (ESC included). */
function escapeLength(data: string, start: number): number {
  const next = data[start + 1];
  if (next === undefined) return 1;
  if (next !== '[' && next !== 'O') return 2;
  // CSI / SS3: parameter and intermediate bytes (0x20-0x3f), then one final byte (0x40-0x7e).
  let i = start + 2;
  while (i < data.length && data.charCodeAt(i) >= 0x20 && data.charCodeAt(i) <= 0x3f) i++;
  return i < data.length ? i - start + 1 : i - start;
}
