import type { ReadStream } from 'node:tty';
import type { Readable } from 'node:stream';
import type { OutputFlow } from './events.js';
import { splitKeys } from './keys.js';

export interface KeySource {
  readonly fromTerminal: boolean;
  /** Stops reading keys for good and gives the terminal back as it was. Safe to call more than once. */
  stop(): void;
}

/**
 * Reads single key presses: from a terminal in raw mode (no Enter, no echo, Ctrl-C as a key),
 * from anything else byte by byte, so `printf 'ss' | client` acts like typing `s` twice.
 *
 * Keys that make output wait while the output is behind (`flow.full`): the rest of the read
 * is kept and stdin paused, so a fast pipe of keys can never queue output without end.
 *
 * The terminal is restored on every way out: by `stop()`, and as a last resort when the
 * process exits (signals and crashes included), since a shell left in raw mode is unusable.
 */
export function readKeys(stdin: Readable, onKey: (key: string) => void, onEnd: () => void, flow: OutputFlow): KeySource {
  const tty = (stdin as Partial<ReadStream>).isTTY === true ? (stdin as ReadStream) : undefined;
  let stopped = false;
  let waiting: { readonly keys: readonly string[]; next: number } | undefined;

  const press = (keys: readonly string[], from: number): void => {
    for (let i = from; i < keys.length; i++) {
      if (stopped) return;
      onKey(keys[i] as string);
      if (flow.full && i + 1 < keys.length) {
        waiting = { keys, next: i + 1 };
        stdin.pause();
        flow.whenDrained(resume);
        return;
      }
    }
  };
  const resume = (): void => {
    const rest = waiting;
    waiting = undefined;
    if (stopped || rest === undefined) return;
    press(rest.keys, rest.next);
    if (waiting === undefined && !stopped) stdin.resume();
  };
  const onData = (data: Buffer | string): void => {
    const text = typeof data === 'string' ? data : data.toString('latin1');
    press(tty === undefined ? Array.from(text) : splitKeys(text), 0);
  };
  // A terminal that hangs up fails the next read (EIO): for us that is the end of the keys.
  const onStreamEnd = (): void => {
    if (!stopped) onEnd();
  };
  const ignore = (): void => undefined;
  const restore = (): void => {
    if (tty?.isRaw !== true) return;
    // A terminal that hung up cannot be set (EIO, reported as an 'error' event), and has no
    // one left to restore it for.
    tty.on('error', ignore);
    tty.setRawMode(false);
    tty.off('error', ignore);
  };
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    waiting = undefined;
    restore();
    stdin.off('data', onData);
    stdin.off('end', onStreamEnd);
    stdin.off('error', onStreamEnd);
    process.off('exit', restore);
    // Not paused but destroyed: a paused stream goes on reading until its buffer fills, and a
    // read failing then (a hangup) would be an 'error' event with no one left to hear it.
    stdin.destroy();
  };

  tty?.setRawMode(true);
  process.on('exit', restore);
  stdin.on('data', onData);
  stdin.on('end', onStreamEnd);
  stdin.on('error', onStreamEnd);
  stdin.resume();
  return { fromTerminal: tty !== undefined, stop };
}
