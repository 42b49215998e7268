import { performance } from 'node:perf_hooks';

/** A connection with more work than one share of a turn: chunks with no wait between them, or a backlog of requests. */
export interface TurnTaker {
  /** Set while queued: a connection waits in the queue once, however much work it has. */
  queuedForTurn: boolean;
  /** Does one bounded share of its work; a taker with more to do adds itself again. */
  takeTurn(): void;
}

/**
 * How long one turn of the event loop may spend on queued work before I/O (everyone's requests)
 * and timers (everyone's schedules) get theirs.
 */
const TURN_MS = 2;

/**
 * Fair shares of the event loop for the connections that have work queued, in turns: round
 * robin, one bounded share each, until the turn's time is spent, then `setImmediate` lets the
 * loop poll for I/O and run timers before the next turn goes on where this one stopped.
 *
 * What one connection may do in one go is bounded by its share, and what all of them may do
 * before the loop comes round again is bounded by the turn: so a hundred connections flooding
 * (or flooded with requests) cost every other client at most a turn of waiting, not a hundred
 * connections' worth of it.
 */
export class TurnQueue {
  readonly #urgent: () => void;
  #queue: TurnTaker[] = [];
  #head = 0;
  #immediate: NodeJS.Immediate | undefined;

  /**
   * `urgent`: work that must not wait for the turn to end, run between shares (the server's
   * chunks that have come due). A turn is bulk work for the few connections that have plenty;
   * a chunk has a due time, and one that fell due early in a turn would otherwise wait for the
   * rest of it, then for the loop's I/O, before its timer ran: up to a whole turn late.
   */
  constructor(urgent: () => void = () => undefined) {
    this.#urgent = urgent;
  }

  add(taker: TurnTaker): void {
    if (taker.queuedForTurn) return;
    taker.queuedForTurn = true;
    this.#queue.push(taker);
    this.#arm();
  }

  readonly #turn = (): void => {
    this.#immediate = undefined;
    const end = performance.now() + TURN_MS;
    try {
      while (this.#head < this.#queue.length) {
        const taker = this.#queue[this.#head++] as TurnTaker;
        taker.queuedForTurn = false;
        taker.takeTurn();
        this.#urgent();
        if (performance.now() >= end) break;
      }
    } finally {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
      if (this.#queue.length > 0) this.#arm();
    }
  };

  #arm(): void {
    if (this.#immediate === undefined) this.#immediate = setImmediate(this.#turn);
  }
}
