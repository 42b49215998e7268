/**
 * Waiting with a safety net. A test or a benchmark waits for an event (a line, a frame, a
 * close); the timeout is only there so that a wait that will never end fails with a message
 * saying what it was waiting for, instead of hanging until the runner gives up.
 */
import { setTimeout as delay } from 'node:timers/promises';

/** Rejects with `what` in the message if `promise` has not settled within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface WaitForOptions {
  readonly timeoutMs: number;
  /** What is awaited, for the message when the time is up. */
  readonly what: string;
  readonly everyMs?: number;
}

/**
 * Resolves once `condition()` holds, looking every `everyMs`. Only for what announces no
 * event: another process's /proc entries, a count another process reports now and then.
 * Where there is an event, await it instead.
 */
export async function waitFor(condition: () => boolean, { timeoutMs, what, everyMs = 20 }: WaitForOptions): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(everyMs);
  }
}
