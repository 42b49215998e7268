// Bundles each command-line program into one file: Node's ES module loader spends more time
// resolving and linking thirty small modules than the programs spend starting, and start-up
// time is something users of a command-line tool feel.
import { copyFileSync, mkdirSync } from 'node:fs';
import { build } from 'esbuild';

/** What every bundle run by Node shares. */
const NODE_BUNDLE = { outdir: 'dist/bin', bundle: true, format: 'esm', platform: 'node', target: 'node20', sourcemap: true, logLevel: 'warning' };

await build({
  ...NODE_BUNDLE,
  entryPoints: { 'multi-socket-server': 'src/bin/multi-socket-server.ts', 'multi-socket-client': 'src/bin/multi-socket-client.ts' },
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  // CommonJS dependencies (sonic-boom, prom-client) call require(); give the bundle one.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
});

// The helper thread that makes symbols for flooding connections (src/server/symbol-lanes.ts
// starts it from the file beside its own): a build of its own, so that sharing code with the
// server never moves the server's code into a chunk in another folder.
await build({ ...NODE_BUNDLE, entryPoints: { 'symbol-thread': 'src/server/symbol-thread.ts' } });

// The dashboard page of `--metrics`, served from dist/dashboard/ (part of the package): its
// code with uPlot in one script, its styles with uPlot's in one sheet. Nothing is fetched at run
// time, and nothing is left for a user to build.
await build({
  entryPoints: { dashboard: 'src/monitor/page/dashboard.ts' },
  outdir: 'dist/dashboard',
  bundle: true,
  minify: true,
  format: 'iife',
  platform: 'browser',
  target: ['chrome110', 'firefox110', 'safari16'],
  banner: { js: '/*! The multi-socket-server dashboard, with uPlot (MIT License, Copyright (c) Leon Sorokin: uPlot-LICENSE.txt) */' },
  logLevel: 'warning',
});
await build({
  entryPoints: { dashboard: 'src/monitor/page/dashboard.css' },
  outdir: 'dist/dashboard',
  bundle: true,
  minify: true,
  logLevel: 'warning',
});
mkdirSync('dist/dashboard', { recursive: true });
for (const file of ['index.html', 'favicon.svg']) copyFileSync(`src/monitor/page/${file}`, `dist/dashboard/${file}`);
copyFileSync('node_modules/uplot/LICENSE', 'dist/dashboard/uPlot-LICENSE.txt');
