/** One event of the `json` mode: a single line, with the time first so logs sort and merge. */
export function jsonLine(event: string, fields: Record<string, unknown>): string {
  return jsonText({ time: new Date().toISOString(), event, ...fields });
}

/**
 * Characters JSON may carry raw that must not reach a terminal or a log viewer as they are: DEL,
 * the C1 controls (a terminal takes U+009B for ESC [, the start of an escape sequence), and the
 * line and paragraph separators, which some readers take for the end of a line.
 */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u2028\u2029]/g;

/**
 * JSON.stringify, with the characters it leaves raw escaped as well (it already escapes the C0
 * controls): whatever a peer sent, the text printed holds no control character. Those
 * characters occur only inside strings, where `\uXXXX` means the same character.
 */
export function jsonText(value: unknown): string {
  return JSON.stringify(value).replace(UNSAFE_IN_JSON, (char) => `\\u${(char.codePointAt(0) as number).toString(16).padStart(4, '0')}`);
}
