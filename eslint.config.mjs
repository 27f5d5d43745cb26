// Lint rules for the whole code base (`npm run lint`, part of `npm test`): typescript-eslint's recommended
// set plus the project's own hygiene rules. Formatting is not linted here.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'release/**', 'node_modules/**', 'test/layers/fixtures/**', 'test/layers/.probes/**', 'models/training/**/*.py'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.mts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'max-len': ['error', { code: 120, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true, ignoreComments: false }],
    },
  },
  {
    // No `x!` in the shared core, the main process and the UI: narrow instead (a check with a specific error, a loop over the
    // values, destructuring). The few that remain sit in numeric kernels whose indices are provably in range;
    // each carries an eslint-disable comment saying why.
    files: ['core/**/*.ts', 'main/**/*.ts', 'renderer/**/*.ts', 'renderer/**/*.tsx'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'error' },
  },
  {
    // CommonJS files run as they are (the `cvm info` launcher): require is how they load modules.
    files: ['build/**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
