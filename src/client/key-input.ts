import type { ReadStream } from 'node:tty';
import type { Readable } from 'node:stream';
import { splitKeys } from './keys.js';

export interface KeySource {
  readonly fromTerminal: boolean;
  /** Stops reading keys and gives the terminal back as it was. Safe to call more than once. */
  stop(): void;
}

/**
 * Reads single key presses: from a terminal in raw mode (no Enter, no echo, Ctrl-C as a key),
 * from anything else byte by byte, so `printf 'ss' | client` acts like typing `s` twice.
 *
 * The terminal is restored on every way out: by `stop()`, and as a last resort when the
 * process exits (signals and crashes included), since a shell left in raw mode is unusable.
 */
export function readKeys(stdin: Readable, onKey: (key: string) => void, onEnd: () => void): KeySource {
  const tty = (stdin as Partial<ReadStream>).isTTY === true ? (stdin as ReadStream) : undefined;
  let stopped = false;

  const onData = (data: Buffer | string): void => {
    const text = typeof data === 'string' ? data : data.toString('latin1');
    for (const key of tty === undefined ? Array.from(text) : splitKeys(text)) {
      if (stopped) return;
      onKey(key);
    }
  };
  // A terminal that hangs up fails the next read (EIO): for us that is the end of the keys.
  const onStreamEnd = (): void => {
    if (!stopped) onEnd();
  };
  const restore = (): void => {
    if (tty?.isRaw === true) tty.setRawMode(false);
  };
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    stdin.off('data', onData);
    stdin.off('end', onStreamEnd);
    restore();
    stdin.pause();
    process.off('exit', restore);
  };

  tty?.setRawMode(true);
  process.on('exit', restore);
  stdin.on('data', onData);
  stdin.on('end', onStreamEnd);
  stdin.on('error', onStreamEnd);
  stdin.resume();
  return { fromTerminal: tty !== undefined, stop };
}
