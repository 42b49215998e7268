// Bundles each command-line program into one file: Node's ES module loader spends more time
// resolving and linking thirty small modules than the programs spend starting, and start-up
// time is something users of a command-line tool feel.
import { build } from 'esbuild';

await build({
  entryPoints: { 'multi-socket-server': 'src/bin/multi-socket-server.ts', 'multi-socket-client': 'src/bin/multi-socket-client.ts' },
  outdir: 'dist/bin',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  chunkNames: 'chunks/[name]-[hash]',
  // CommonJS dependencies (sonic-boom, prom-client) call require(); give the bundle one.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: 'warning',
});
