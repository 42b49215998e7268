import sonicBoom from 'sonic-boom';
import type { Mode } from './mode.js';

// A CommonJS package: its class is a property of the default export, at run time and in its types.
const { SonicBoom } = sonicBoom;

/** Beyond this much unwritten output, new lines are dropped (and counted) rather than queued. */
const MAX_BUFFER_BYTES = 16 * 1024 * 1024;

/**
 * The largest write: Linux's PIPE_BUF. With `--workers N`, N processes write to one stdout, and
 * the kernel keeps a write to a pipe whole only up to PIPE_BUF bytes (a blocking one is never
 * split, a non-blocking one is taken whole or refused with EAGAIN and retried whole); the same
 * size goes whole onto a socket pair, a terminal or a file. Larger writes may be cut and mixed
 * mid-line with another process's. sonic-boom joins queued writes only while the sum stays
 * within `maxWrite`, and every write here is whole lines, so each write is whole lines of at
 * most 4096 bytes: N processes' lines never interleave mid-line. (A single line longer than
 * that, a chunk of thousands of symbols in user, debug or json mode, is written as one write
 * and can be cut; nothing short of one writer could keep it whole.) Measured with 4 workers in
 * user mode at full speed into a slow pipe reader: 64 KiB writes broke about 1,100 lines of
 * 290,000, 4 KiB writes none of 600,000.
 */
const MAX_WRITE_BYTES = 4096;

/**
 * Writes lines to a file descriptor (stdout) without ever blocking the event loop.
 *
 * Node writes to a pipe synchronously on Linux, so a slow reader of the server's log (a busy
 * `| grep`, a stalled log shipper) would stall every client. Here writes are asynchronous
 * (sonic-boom, the writer behind pino): lines written while one write is in flight are joined
 * into the next, up to 4096 bytes of whole lines a write (see MAX_WRITE_BYTES), and the queue
 * is bounded: if the reader falls more than 16 MiB behind, lines are dropped and counted
 * instead of growing memory without end.
 *
 * A reader that goes away (`| head -3`) is not an error of ours: EPIPE marks the printer
 * broken, later lines are dropped, and `onBroken` lets the program end quietly.
 */
export class Printer {
  readonly #out: InstanceType<typeof SonicBoom>;
  readonly #onBroken: () => void;
  #broken = false;
  #dropped = 0;

  constructor(fd: number, onBroken: () => void = () => undefined) {
    this.#onBroken = onBroken;
    this.#out = new SonicBoom({ fd, sync: false, maxLength: MAX_BUFFER_BYTES, maxWrite: MAX_WRITE_BYTES });
    this.#out.on('drop', () => this.#dropped++);
    this.#out.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      this.#markBroken();
    });
  }

  /** An event sink printing each event as `format` shows it in `mode` (nothing when it shows none). */
  sink<Event>(format: (mode: Mode, event: Event) => string | undefined, mode: Mode): (event: Event) => void {
    return (event) => {
      const text = format(mode, event);
      if (text !== undefined) this.line(text);
    };
  }

  line(text: string): void {
    if (this.#broken) return;
    this.#out.write(`${text}\n`);
  }

  /**
   * Resolves once everything printed so far is written; call before the program ends. Lines
   * dropped on the way are owned up to on stderr, so a short log is never mistaken for a quiet run.
   */
  drain(): Promise<void> {
    if (this.#dropped > 0) {
      process.stderr.write(`${this.#dropped} output lines dropped: the reader of stdout fell more than ${MAX_BUFFER_BYTES / 1048576} MiB behind\n`);
      this.#dropped = 0;
    }
    if (this.#broken) return Promise.resolve();
    return new Promise((resolve) => {
      this.#out.flush((error?: NodeJS.ErrnoException) => {
        if (error?.code === 'EPIPE') this.#markBroken();
        resolve();
      });
    });
  }

  #markBroken(): void {
    if (this.#broken) return;
    this.#broken = true;
    this.#onBroken();
  }
}
