import assert from 'node:assert/strict';
import type { Range } from '../../src/server/config.js';
import { DEFAULT_ALPHABET } from '../../src/server/config.js';
import { StreamSource, type SymbolGenerator } from '../../src/server/generator.js';
import type { Frame } from '../../src/protocol/frame.js';

/** `total` symbols of a stream, drawn in fills of `lengths()` each (the last cut short). */
export function drawSymbols(generator: SymbolGenerator, total: number, lengths: () => number): Buffer {
  const out = Buffer.alloc(total);
  for (let at = 0; at < total; ) {
    const end = Math.min(total, at + lengths());
    generator.fill(out, at, end);
    at = end;
  }
  return out;
}

/**
 * Checks symbols frames of the first connection to a flooding server (`--seed`, `--interval
 * 0-0`, `--chars` as `chars`) against the stream that seed gives it, chunk by chunk.
 */
export function assertSeededFlood(frames: readonly Pick<Frame, 'header' | 'content'>[], seed: number, chars: Range): void {
  const expected = new StreamSource(seed).next(chars, { min: 0, max: 0 }, DEFAULT_ALPHABET);
  frames.forEach((frame, index) => {
    assert.equal(frame.header.sleep_time, 0);
    // nextWait() first, as the schedule draws it: the wait before each chunk, then the chunk.
    expected.nextWait();
    assert.ok(frame.content.equals(expected.nextChunk()), `chunk ${index + 1} of ${frames.length}`);
  });
}
