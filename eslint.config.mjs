// ESLint for the front end (src/) and the Galata UI tests (ui-tests/tests/). Formatting is
// prettier's job: eslint-config-prettier comes last and switches off every stylistic rule.
// Run with `npm run lint:check` (eslint, then prettier --check); .ci/run runs it too.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import prettier from 'eslint-config-prettier';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

export default defineConfig([
  globalIgnores([
    'lib/',
    'node_modules/',
    'server-ext/',
    'ui-tests/node_modules/',
    'ui-tests/test-results/',
    'ui-tests/playwright-report/'
  ]),
  {
    files: ['src/**/*.{ts,tsx}', 'ui-tests/tests/**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    rules: {
      // JupyterLab's and Lumino's APIs hand out `any` in places (settings, widget options,
      // JSON from the server before it is checked); keep it visible, but not a CI failure.
      '@typescript-eslint/no-explicit-any': 'warn',
      // `export namespace Foo { IOptions, CommandIDs }` next to a class is how JupyterLab and
      // Lumino declare a class's companion types (as the extension template does); it is not
      // the legacy internal-module pattern this rule is about.
      '@typescript-eslint/no-namespace': 'off',
      // Methods that implement an interface (Contents.IDrive's checkpoints, signal slots) keep
      // its parameters even when they ignore them; the leading underscore says so.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_' }
      ]
    }
  },
  {
    files: ['src/**/*.{ts,tsx}'],
    extends: [reactHooks.configs['recommended-latest']]
  },
  prettier
]);
