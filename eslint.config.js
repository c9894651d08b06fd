// ESLint with typescript-eslint's type-aware rules: this code is mostly async file I/O that must
// not lose a promise (a crash-safe watcher), which only a linter that knows the types can check.
// Prettier (.prettierrc.json, `npm run format`) owns the layout; `max-len` keeps lines <= 120
// where Prettier cannot (long strings, comments).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'logs/', '.cache/', 'test-artifacts/', 'tmp/', '.gpukit/', 'scripts/gpu/sample/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
  },
  prettier,
  {
    rules: {
      'max-len': ['error', { code: 120, tabWidth: 2, ignoreUrls: true }],
      // node:test's test() returns a promise the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] },
          ],
        },
      ],
      // Indexed reads carry `!` so the code also compiles under noUncheckedIndexedAccess; TypeScript
      // without that flag calls them unnecessary.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // An async function without await still promises its callers a Promise (interfaces, handlers).
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
