// Assembles the generator's WebAssembly kernel (src/server/symbols.wat) into a module that
// embeds its bytes, so that both the compiled sources and the bundles carry it: nothing to
// fetch or build when the server starts. Runs before tsc; the output is checked in, so that
// type-checking and linting need no build, and rewritten by every build, so that it cannot
// fall behind its source.
import { Buffer } from 'node:buffer';
import { readFile, writeFile } from 'node:fs/promises';
import { URL } from 'node:url';
import initWabt from 'wabt';

const source = new URL('../src/server/symbols.wat', import.meta.url);
const target = new URL('../src/server/symbols-wasm.ts', import.meta.url);

const wabt = await initWabt();
const module = wabt.parseWat('symbols.wat', await readFile(source, 'utf8'), { simd: true });
module.validate();
const { buffer } = module.toBinary({});
module.destroy();
await writeFile(
  target,
  `// Generated from symbols.wat by scripts/wasm.mjs (npm run build): do not edit.\nexport const SYMBOLS_WASM = '${Buffer.from(buffer).toString('base64')}';\n`,
);
