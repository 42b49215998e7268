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

/**
 * Splits what one read of a raw terminal gave into key presses: an escape sequence (an arrow,
 * a function key) is one press, anything else one press per character.
 */
export function splitKeys(data: string): string[] {
  if (data.startsWith(ESCAPE)) return [data];
  return Array.from(data);
}
