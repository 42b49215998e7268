/**
 * Loaded into a program under test with `node --import`: as the process exits, it writes its
 * peak resident memory to stderr (`max-rss-kib=N`), the figure memory tests bound.
 */
process.on('exit', () => {
  process.stderr.write(`max-rss-kib=${process.resourceUsage().maxRSS}\n`);
});
export {};
