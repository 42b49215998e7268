// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Built-ins are imported with the `node:` prefix so they can never be shadowed by a package.
const NODE_PREFIX = {
  regex: '^(assert|buffer|child_process|cluster|crypto|dns|events|fs|net|os|path|process|readline|stream|timers|tty|url|util|worker_threads|test)(/.*)?$',
  message: 'Import Node.js built-ins with the node: prefix.',
};

/**
 * The folders of src/ in layers, each importing only from the layers below it: the protocol
 * (bytes on the wire, no I/O) at the bottom, then the transports, then the server and the client
 * (which know nothing of each other), then the monitor that watches the server, then the output
 * that formats their events and the web port that hands the server its WebSocket clients, then
 * the command line, then the entry points. An import upwards or sideways is a lint error.
 */
const LAYERS = [
  ['protocol'],
  ['transport'],
  ['server', 'client'],
  ['monitor'],
  ['output', 'web'],
  ['cli'],
  ['bin'],
];

/**
 * Folders below a layer that it still must not import: the monitor watches the server, never the client.
 * @type {Record<string, string[]>}
 */
const UNRELATED = { monitor: ['client'] };

function layerRules() {
  const all = LAYERS.flat();
  return LAYERS.flatMap((layer, level) => {
    return layer.map((folder) => {
      const below = new Set(LAYERS.slice(0, level).flat().filter((name) => !(UNRELATED[folder] ?? []).includes(name)));
      const forbidden = all.filter((other) => other !== folder && !below.has(other));
      return {
        files: [`src/${folder}/**/*.ts`],
        rules: {
          'no-restricted-imports': [
            'error',
            {
              patterns: [
                NODE_PREFIX,
                {
                  regex: `^(\\.\\./)+(${forbidden.join('|')}|test|bench)/`,
                  message: `src/${folder} may import only from ${[...below].map((name) => `src/${name}`).join(', ') || 'itself'}: see the layers in eslint.config.js.`,
                },
              ],
            },
          ],
        },
      };
    });
  });
}

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['eslint.config.js', 'scripts/*.mjs'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      'no-restricted-imports': ['error', { patterns: [NODE_PREFIX] }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // node:test's describe/it/test return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  ...layerRules(),
  {
    // Only the CLI wrapper decides the exit code and ends the process.
    files: ['src/**/*.ts'],
    ignores: ['src/cli/run-cli.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.object.name='process'][callee.property.name='exit']", message: 'Only src/cli/run-cli.ts may call process.exit.' },
      ],
    },
  },
  {
    // The browser client: plain JavaScript that the browser runs as it is, type-checked against
    // the DOM by its own tsconfig (which is where its globals are known).
    files: ['src/web/page/**/*.js'],
    rules: { 'no-undef': 'off' },
  },
  {
    files: ['eslint.config.js', 'scripts/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
