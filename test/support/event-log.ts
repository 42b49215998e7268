/**
 * The events a server emitted, kept for a test to look back at, and waits for the ones still to
 * come: one place for what TestServer (net.ts) and WebTestServer (web.ts) both do with them.
 */
import { withTimeout } from './wait.js';

interface Waiter<E> {
  readonly matches: (event: E) => boolean;
  readonly resolve: (event: E) => void;
}

export class EventLog<E extends { readonly type: string }> {
  /** The events kept, in the order they came. */
  readonly events: E[] = [];
  readonly #keeps: (event: E) => boolean;
  readonly #waiters = new Set<Waiter<E>>();
  readonly #listeners = new Set<(event: E) => void>();

  /** `keeps`: which events to keep (waiters and listeners see them all): keeps big runs small. */
  constructor(keeps: (event: E) => boolean = () => true) {
    this.#keeps = keeps;
  }

  record(event: E): void {
    if (this.#keeps(event)) this.events.push(event);
    for (const listener of this.#listeners) listener(event);
    for (const waiter of this.#waiters) {
      if (waiter.matches(event)) {
        this.#waiters.delete(waiter);
        waiter.resolve(event);
      }
    }
  }

  /** Calls `listener` for every event from now on; returns the function that stops it. */
  onEvent(listener: (event: E) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * The first event that `matches`, among those kept from index `since` on, or else the next
   * one to come; rejects naming `what` after `timeoutMs`.
   */
  waitFor<T extends E>(matches: (event: E) => event is T, what: string, timeoutMs: number, since = 0): Promise<T> {
    const past = this.events.slice(since).find(matches);
    if (past !== undefined) return Promise.resolve(past);
    let waiter: Waiter<E> | undefined;
    const next = new Promise<T>((resolve) => {
      waiter = { matches, resolve: resolve as (event: E) => void };
      this.#waiters.add(waiter);
    });
    return withTimeout(next, timeoutMs, what).finally(() => {
      if (waiter !== undefined) this.#waiters.delete(waiter);
    });
  }
}
