import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** bench/results/ in the repository (the compiled benchmark runs from dist/bench/lib/). */
export const RESULTS_DIR = fileURLToPath(new URL('../../../bench/results/', import.meta.url));

/** A fresh path for one run's results: `bench/results/NAME-2026-11-25T22-40-00.json`. */
export function resultPath(name: string, extension = 'json'): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  return `${RESULTS_DIR}${name}-${new Date().toISOString().slice(0, 19).replaceAll(':', '-')}.${extension}`;
}
