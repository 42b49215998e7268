import type { SymbolGenerator } from '../../src/server/generator.js';

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
