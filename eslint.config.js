// ESLint with typescript-eslint's type-aware rules: this code is mostly async file I/O that must
// not lose a promise (a crash-safe watcher), which only a linter that knows the types can check.
// Prettier (.prettierrc.json, `npm run format`) owns the layout; `max-len` keeps lines <= 120
// where Prettier cannot (long strings, comments).
import js from '@eslint/js';
import globals from 'globals';
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
  {
    // The timelapse page's own script runs in the browser.
    files: ['src/view/client/**/*.js'],
    languageOptions: { globals: globals.browser },
  },
  {
    files: ['bin/**/*.js', 'eslint.config.js'],
    languageOptions: { globals: globals.node },
  },
  {
    // Functions handed to Playwright's page.evaluate run in the page, whose globals (window,
    // document) these Node-typed files can only declare as any.
    files: [
      'test/view/browser.test.ts',
      'test/view/player.test.ts',
      'test/view/helpers/player.ts',
      'scripts/bench-view.ts',
    ],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
