import { performance } from 'node:perf_hooks';

/** Something the scheduler calls at a due time; one per connection, reused for every chunk. */
export interface Slot {
  /** When to fire, on the scheduler's clock (performance.now()). */
  due: number;
  /** Position in the heap, -1 when not scheduled: lets a slot be moved or removed in O(log n). */
  index: number;
  fire(this: void, slot: Slot): void;
}

/** Slots due within this much of the earliest fire together: one wake-up, several chunks. */
const BATCH_MS = 0.5;

/**
 * One Node timer for every connection's schedule: an indexed binary heap of slots ordered by
 * due time, and a single timeout armed for the earliest.
 *
 * A setTimeout per chunk allocates a Timeout that lives the whole wait (1-5 s), long enough to
 * be promoted to the old generation, so a server with tens of thousands of clients would feed
 * the major collector tens of thousands of objects a minute, and its pauses show up as
 * lateness. Here rescheduling a slot allocates nothing.
 */
export class Scheduler {
  readonly #now: () => number;
  readonly #heap: Slot[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** The due time the timer is armed for. */
  #armedFor = Number.POSITIVE_INFINITY;
  /** Set while due slots run: they reschedule themselves, and the timer is armed once after. */
  #firing = false;

  /** `now`: the clock due times are on; a test passes its own to play a schedule through. */
  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** Schedules (or reschedules) `slot` to fire `delayMs` from now. */
  schedule(slot: Slot, delayMs: number): void {
    slot.due = this.#now() + delayMs;
    if (slot.index === -1) {
      slot.index = this.#heap.length;
      this.#heap.push(slot);
    }
    this.#siftUp(slot.index);
    this.#siftDown(slot.index);
    this.#arm();
  }

  cancel(slot: Slot): void {
    const index = slot.index;
    if (index === -1) return;
    const last = this.#heap.pop() as Slot;
    slot.index = -1;
    if (last !== slot) {
      this.#heap[index] = last;
      last.index = index;
      this.#siftUp(index);
      this.#siftDown(last.index);
    }
    if (this.#heap.length === 0 && !this.#firing) this.#disarm();
  }

  /**
   * Fires the slots that are due now, without waiting for the timer: for work that would
   * otherwise hold the loop past their due time (a turn of the TurnQueue, a read's share of
   * requests). With nothing due it costs a clock reading and a look at the top of the heap.
   */
  fireDue(): void {
    const top = this.#heap[0];
    if (top === undefined || this.#firing) return;
    const now = this.#now();
    if (top.due > now) return;
    this.#fire(now);
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
    this.#fire(this.#now() + BATCH_MS);
  };

  /** Fires every slot due by `limit`, then arms the timer once for the earliest left. */
  #fire(limit: number): void {
    this.#firing = true;
    try {
      for (let top = this.#heap[0]; top !== undefined && top.due <= limit; top = this.#heap[0]) {
        this.cancel(top);
        top.fire(top);
      }
    } finally {
      this.#firing = false;
      this.#arm();
    }
  }

  #arm(): void {
    if (this.#firing) return;
    const top = this.#heap[0];
    if (top === undefined || top.due >= this.#armedFor) return;
    this.#disarm();
    this.#armedFor = top.due;
    this.#timer = setTimeout(this.#onTimer, Math.max(0, top.due - this.#now()));
  }

  #disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
  }

  #siftUp(start: number): void {
    const heap = this.#heap;
    let index = start;
    const slot = heap[index] as Slot;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex] as Slot;
      if (parent.due <= slot.due) break;
      heap[index] = parent;
      parent.index = index;
      index = parentIndex;
    }
    heap[index] = slot;
    slot.index = index;
  }

  #siftDown(start: number): void {
    const heap = this.#heap;
    const length = heap.length;
    let index = start;
    const slot = heap[index] as Slot;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && (heap[right] as Slot).due < (heap[left] as Slot).due ? right : left;
      const candidate = heap[child] as Slot;
      if (candidate.due >= slot.due) break;
      heap[index] = candidate;
      candidate.index = index;
      index = child;
    }
    heap[index] = slot;
    slot.index = index;
  }
}
