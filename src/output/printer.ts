import type { Writable } from 'node:stream';

/**
 * Writes lines to stdout, joined per turn of the event loop: a server printing the original's
 * two lines per chunk for thousands of clients makes one write call per turn, not thousands.
 *
 * A reader that goes away (`| head -3`) is not an error of ours: the first EPIPE marks the
 * printer broken, later lines are dropped and `onBroken` lets the program end quietly.
 */
export class Printer {
  readonly #stream: Writable;
  readonly #onBroken: () => void;
  #pending = '';
  #scheduled = false;
  #broken = false;

  constructor(stream: Writable, onBroken: () => void = () => undefined) {
    this.#stream = stream;
    this.#onBroken = onBroken;
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
      this.#markBroken();
    });
  }

  get broken(): boolean {
    return this.#broken;
  }

  line(text: string): void {
    if (this.#broken) return;
    this.#pending += `${text}\n`;
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.flush);
  }

  /** Writes whatever is pending now; call before the program ends. */
  readonly flush = (): void => {
    this.#scheduled = false;
    if (this.#broken || this.#pending === '') return;
    const text = this.#pending;
    this.#pending = '';
    try {
      this.#stream.write(text);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
      this.#markBroken();
    }
  };

  /** Resolves once everything written so far has been handed to the system. */
  async drain(): Promise<void> {
    this.flush();
    if (this.#broken) return;
    await new Promise<void>((resolve) => this.#stream.write('', () => resolve()));
  }

  #markBroken(): void {
    if (this.#broken) return;
    this.#broken = true;
    this.#pending = '';
    this.#onBroken();
  }
}
