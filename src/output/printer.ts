import { fstatSync } from 'node:fs';
import { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import sonicBoom from 'sonic-boom';
import type { Mode } from './mode.js';

// A CommonJS package: its class is a property of the default export, at run time and in its types.
const { SonicBoom } = sonicBoom;

/** Beyond this much unwritten output, new lines are dropped (and counted) rather than queued; one longer line is still taken. */
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
 * broken, later lines are dropped, and `onBroken` lets the program end quietly. So does a
 * terminal that hangs up (EIO) or any other failed write: `onBroken` gets the error.
 */
export class Printer {
  readonly #out: InstanceType<typeof SonicBoom>;
  readonly #onBroken: (error: NodeJS.ErrnoException) => void;
  #broken = false;
  #dropped = 0;
  /** Bytes handed to the writer and not yet written. */
  #queued = 0;

  constructor(fd: number, onBroken: (error: NodeJS.ErrnoException) => void = () => undefined) {
    this.#onBroken = onBroken;
    // No maxLength: sonic-boom would drop every line longer than it, however idle the reader.
    // The bound is kept here instead, on what is queued.
    this.#out = new SonicBoom({ fd, sync: false, maxWrite: MAX_WRITE_BYTES });
    this.#out.on('write', (written: number) => (this.#queued -= written));
    this.#out.on('error', (error: NodeJS.ErrnoException) => this.#markBroken(error));
  }

  /** An event sink printing each event as `format` shows it in `mode` (nothing when it shows none). */
  sink<Event>(format: (mode: Mode, event: Event) => string | undefined, mode: Mode): (event: Event) => void {
    return printing(this, format, mode);
  }

  /** Queues a line, or drops it (counted) when the reader is more than 16 MiB behind. */
  line(text: string): void {
    if (this.#broken) return;
    if (this.#queued > MAX_BUFFER_BYTES) {
      this.#dropped++;
      return;
    }
    const line = `${text}\n`;
    this.#queued += Buffer.byteLength(line);
    this.#out.write(line);
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
        if (error !== undefined && error !== null) this.#markBroken(error);
        resolve();
      });
    });
  }

  #markBroken(error: NodeJS.ErrnoException): void {
    if (this.#broken) return;
    this.#broken = true;
    this.#onBroken(error);
  }
}

/**
 * Writes the client's lines, and holds the client back instead of dropping any.
 *
 * The client has one reader to keep up with, its own output, and nothing to lose by waiting
 * for it: while more than a little is unwritten (`full`), the client reads neither the socket
 * nor the keys, so the server slows down for it (TCP's own flow control) and memory stays the
 * size of one event's lines. A file or `/dev/null` takes each write at once and never holds
 * anything back; a terminal is written synchronously, as Node writes one; a pipe is written
 * without blocking, and a reader that stalls stalls the stream, not the process.
 *
 * At the end, `drain()` waits for what is left, as long as it is being taken; what a stalled
 * reader never took (a signal ends the client, whatever its output is doing) is dropped and
 * said on stderr. A failed write (EPIPE: the reader went away; EIO: the terminal hung up) marks
 * the printer broken, and `onBroken` decides how the program ends.
 */
export class FlowPrinter {
  readonly #out: Writable;
  readonly #onBroken: (error: NodeJS.ErrnoException) => void;
  readonly #waiting = new Set<() => void>();
  #broken = false;
  /** Lines handed to the stream and not yet written by it. */
  #unwritten = 0;

  constructor(out: Writable, onBroken: (error: NodeJS.ErrnoException) => void) {
    this.#out = out;
    this.#onBroken = onBroken;
    out.on('error', (error: NodeJS.ErrnoException) => this.#markBroken(error));
    out.on('drain', () => this.#release());
  }

  /**
   * Standard output as a stream to write to. A pipe or a socket gets a stream of its own, so
   * that what it holds unwritten belongs to this printer alone and can be given up at the end
   * (Node's own `process.stdout` would keep it, and wait for it, before the process may exit).
   */
  static stdout(): Writable {
    const stat = fstatSync(1);
    return stat.isFIFO() || stat.isSocket() ? new Socket({ fd: 1, readable: false, writable: true }) : process.stdout;
  }

  /** Whether the client should stop producing lines until `whenDrained` calls it back. */
  get full(): boolean {
    return !this.#broken && this.#out.writableNeedDrain;
  }

  whenDrained(resume: () => void): void {
    if (!this.full) {
      queueMicrotask(resume);
      return;
    }
    this.#waiting.add(resume);
  }

  /** An event sink printing each event as `format` shows it in `mode` (nothing when it shows none). */
  sink<Event>(format: (mode: Mode, event: Event) => string | undefined, mode: Mode): (event: Event) => void {
    return printing(this, format, mode);
  }

  line(text: string): void {
    if (this.#broken) return;
    this.#unwritten++;
    this.#out.write(`${text}\n`, () => this.#unwritten--);
  }

  /**
   * Resolves once everything printed is written, or the stream is broken, or, when
   * `giveUpAfterMs` is given, once that long has passed with lines still unwritten: then they
   * are dropped, and said on stderr.
   */
  drain(giveUpAfterMs?: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (): void => {
        clearTimeout(timer);
        resolve();
      };
      if (this.#broken || this.#out.writableLength === 0) {
        finish();
        return;
      }
      this.#out.write('', finish);
      if (giveUpAfterMs !== undefined) timer = setTimeout(() => this.#abandon(finish), giveUpAfterMs);
    });
  }

  #abandon(done: () => void): void {
    if (this.#unwritten > 0 && !this.#broken) {
      process.stderr.write(`${this.#unwritten} output ${this.#unwritten === 1 ? 'line' : 'lines'} not written: stdout was not being read when the client stopped\n`);
    }
    this.#broken = true;
    this.#out.destroy();
    done();
  }

  #release(): void {
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    for (const resume of waiting) resume();
  }

  #markBroken(error: NodeJS.ErrnoException): void {
    if (this.#broken) return;
    this.#broken = true;
    // Nothing more will be written: whatever waits for the output must not wait for ever.
    this.#release();
    this.#onBroken(error);
  }
}

/** What both printers' `sink` give: each event formatted for `mode`, printed when it shows. */
function printing<Event>(printer: { line(text: string): void }, format: (mode: Mode, event: Event) => string | undefined, mode: Mode): (event: Event) => void {
  return (event) => {
    const text = format(mode, event);
    if (text !== undefined) printer.line(text);
  };
}
