/**
 * Symbols delivered to one connection since it opened or since its last statistics answer.
 *
 * A chunk counts the moment it is handed to the socket. The stream is ordered, so every chunk
 * counted here reaches the client before the answer that reports it: the client's own count
 * between two answers always equals the figure in the second one.
 */
export class DeliveryCounter {
  #count = 0;
  #total = 0;

  add(symbols: number): void {
    this.#count += symbols;
    this.#total += symbols;
  }

  /** The figure for a statistics answer; the count starts again from zero. */
  take(): number {
    const count = this.#count;
    this.#count = 0;
    return count;
  }

  /** What the next answer will say, without resetting it: for the monitor's listing. */
  get sinceAnswer(): number {
    return this.#count;
  }

  /** Everything delivered over the connection's life, for logs. */
  get total(): number {
    return this.#total;
  }
}
