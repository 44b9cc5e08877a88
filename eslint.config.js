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
);
