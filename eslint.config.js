// @ts-check
import tseslint from 'typescript-eslint';

/** Layers (docs/design.md, "Layers"): each imports only the layers below it. `common` holds
 * contracts and small utilities every layer shares (save/restore, CRC). */
const layers = ['common', 'memory', 'cpu', 'hv', 'vmm'];

/** Layers with one entry file: the layers above see them only through it (their index.ts). */
const indexedLayers = ['memory', 'cpu', 'hv'];
/** Import patterns that reach past the index of each indexed layer below `layer` (front ends are above them all). */
const throughIndexOnly = (layer) =>
  indexedLayers
    .filter((lower) => !layers.includes(layer) || layers.indexOf(lower) < layers.indexOf(layer))
    .map((lower) => ({
      group: [`**/${lower}/**`, `!**/${lower}/index.js`],
      message: `import ${lower} only through its entry, src/${lower}/index.ts (tests and benches may use internals).`,
    }));

const layerRules = layers.map((layer, index) => ({
  files: [`src/${layer}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          { group: ['node:*'], message: 'The core (memory, cpu, hv, vmm) must run in a browser: no node: imports. Put Node adapters in src/node.' },
          ...layers.slice(index + 1).map((upper) => ({
            group: [`**/${upper}/**`, `../${upper}/*`, `../../${upper}/*`],
            message: `${layer} is below ${upper} and must not import it.`,
          })),
          { group: ['**/node/**', '**/cli/**'], message: 'The core must not import front ends or Node adapters.' },
          ...throughIndexOnly(layer),
        ],
      },
    ],
  },
}));

/** Node adapters and the CLI may use Node, but see the core's indexed layers only through their entries. */
const frontEndRules = {
  files: ['src/node/**/*.ts', 'src/cli/**/*.ts'],
  rules: { 'no-restricted-imports': ['error', { patterns: throughIndexOnly('node') }] },
};

/** The library entry (package.json "exports" "."): runs in a browser, so the core only. */
const entryRules = {
  files: ['src/index.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          { group: ['node:*', './node/**', './cli/**', './web/**'], message: 'The library entry must run in a browser: Node adapters are exported from src/node/index.ts ("tagvisor/node").' },
          ...throughIndexOnly('index'),
        ],
      },
    ],
  },
};

/** The browser playground and viewer UI (docs/web.md): a front end that must run in a browser. */
const webRules = {
  files: ['src/web/**/*.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          { group: ['node:*'], message: 'src/web runs in a browser: no node: imports (scripts/build-web.mjs refuses them too).' },
          { group: ['**/node/**', '**/cli/**'], message: 'src/web runs in a browser: it must not import Node adapters or the CLI.' },
          ...throughIndexOnly('web'),
        ],
      },
    ],
    'no-restricted-globals': ['error', ...['process', 'Buffer', 'require', '__dirname', '__filename', 'global', 'setImmediate'].map((name) => ({ name, message: `${name} is Node-only; src/web runs in a browser.` }))],
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'guests/**', 'test-output/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  ...layerRules,
  webRules,
  frontEndRules,
  entryRules,
);
