// @ts-check
import tseslint from 'typescript-eslint';

/** Layers (DESIGN.md §2): each imports only the layers below it. `common` holds contracts and
 * small utilities every layer shares (save/restore, CRC). */
const layers = ['common', 'memory', 'cpu', 'hv', 'vmm'];
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
        ],
      },
    ],
  },
}));

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
);
