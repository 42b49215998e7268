import { setFlagsFromString } from 'node:v8';

/**
 * How far the old generation may grow past what the last full collection left alive before
 * the next one begins: 100 %, V8's own factor for a busy heap of this size, fixed.
 *
 * V8 picks the factor from how fast the old generation grows against how fast it marks, and
 * a server that holds thousands of clients grows its old generation slowly, so it gets the
 * least, 1.1: a limit some 24 MB above 50 MB of live clients. External memory counts against
 * that limit, and a flood of requests reads tens of megabytes a second into buffers that wait
 * for their turns; so beside a hundred request flooders the collector began marking the whole
 * heap, every client's state, three to four times a second, and each time every client's
 * chunks waited through its steps and its final pause (p99 lateness 5-7.5 ms, against 1 ms
 * alone). With the factor fixed at 2 it marks half as often, and the tail is back near the
 * figure alone. The price: a heap up to twice its live size between full collections, when
 * something makes garbage that survives a scavenge.
 *
 * The factor is read each time the limit is computed, so setting it at startup works; it is
 * the process's, so the server's entry point sets it (each cluster worker runs that too), not
 * startServer.
 */
const HEAP_GROWING_PERCENT = 100;

export function tuneHeapForServing(): void {
  // A factor the user chose (`node --heap-growing-percent=N`, or NODE_OPTIONS) stands.
  const chosen = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((flag) => /^--heap[-_]growing[-_]percent\b/.test(flag));
  if (!chosen) setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
