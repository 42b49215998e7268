import { performance } from 'node:perf_hooks';
import { DEFAULT_ALPHABET } from '../../src/server/config.js';
import { Keystream, PAGE_BYTES } from '../../src/server/keystream.js';
import { mapsByRuns, SymbolKernel } from '../../src/server/symbol-kernel.js';
import { makeSegment, SEGMENT_BYTES } from '../../src/server/symbol-lanes.js';
import { median } from './pump.js';

/** The default alphabet with two symbols more: five runs, so the kernel looks its symbols up in tables. */
const TABLE_ALPHABET = `${DEFAULT_ALPHABET}+/`;

export interface SegmentsResult {
  readonly rounds: number;
  readonly iterations: number;
  /** Microseconds per segment (SEGMENT_BYTES of keystream), median of the rounds: its pages' seeds (AES), its pages (the kernel's xoshiro128++), its mapping, and all of it. */
  readonly seedsUs: number;
  readonly pagesUs: number;
  readonly kernelByRunsUs: number;
  readonly kernelByTablesUs: number;
  readonly segmentUs: number;
}

/**
 * What one segment of a flooding stream (symbol-lanes.ts) costs on one thread, part by part:
 * its keystream (the pages' seeds from node:crypto's AES-128-CTR, the pages from the kernel's
 * xoshiro128++; keystream.ts), the kernel's mapping of it for the default
 * alphabet (mapped by adding, three runs) and for one of five runs (looked up in tables), and
 * the whole segment as either thread makes it. The parts of the flood's CPU that do not depend
 * on the socket or the reader, so that a change to them is measured apart from that noise.
 */
export function runSegments(options: { rounds: number; iterations: number; progress: (line: string) => void }): SegmentsResult {
  const keystream = new Keystream(Buffer.alloc(16, 7));
  const kernel = new SymbolKernel();
  const defaultAlphabet = Buffer.from(DEFAULT_ALPHABET, 'latin1');
  const tableAlphabet = Buffer.from(TABLE_ALPHABET, 'latin1');
  if (!mapsByRuns(defaultAlphabet) || mapsByRuns(tableAlphabet)) throw new Error('the alphabets no longer take the two ways through the kernel');
  const out = new Uint8Array(SEGMENT_BYTES);
  const pages = SEGMENT_BYTES / PAGE_BYTES;
  const seeds = keystream.seeds(1, 2, 0, pages);
  // A window of its own: the kernel copies it in once, then maps it where it is.
  const window = kernel.expand(seeds, 0, SEGMENT_BYTES, new Uint8Array(SEGMENT_BYTES));
  let page = 0;
  const parts = {
    seeds: () => keystream.seeds(1, 2, (page += pages), pages),
    pages: () => kernel.expand(seeds, 0, SEGMENT_BYTES),
    kernelByRuns: () => kernel.map(window, 0, defaultAlphabet, out, 0, SEGMENT_BYTES / 2),
    kernelByTables: () => kernel.map(window, 0, tableAlphabet, out, 0, SEGMENT_BYTES / 2),
    segment: () => makeSegment(kernel, keystream, 1, 2, (page += pages) * PAGE_BYTES, defaultAlphabet, out),
  };
  const times: Record<keyof typeof parts, number[]> = { seeds: [], pages: [], kernelByRuns: [], kernelByTables: [], segment: [] };
  for (let round = 1; round <= options.rounds; round++) {
    options.progress(`segments: round ${round} of ${options.rounds}`);
    // Interleaved, so that the machine's drift falls on every part alike.
    for (const [name, part] of Object.entries(parts) as [keyof typeof parts, () => unknown][]) {
      part();
      const started = performance.now();
      for (let i = 0; i < options.iterations; i++) part();
      times[name].push(((performance.now() - started) * 1000) / options.iterations);
    }
  }
  return {
    rounds: options.rounds,
    iterations: options.iterations,
    seedsUs: median(times.seeds),
    pagesUs: median(times.pages),
    kernelByRunsUs: median(times.kernelByRuns),
    kernelByTablesUs: median(times.kernelByTables),
    segmentUs: median(times.segment),
  };
}
