// Lint: typescript-eslint with type information, sorted imports, no console in the service's
// code. Formatting is prettier's (eslint-config-prettier turns off what would fight it);
// boundaries and cycles are dependency-cruiser's (.dependency-cruiser.cjs).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import simpleImportSort from 'eslint-plugin-simple-import-sort';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'data/**', '.build-*/**', 'docker/**', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js', 'test/*.mjs', '.ci/*.mjs'] }, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'simple-import-sort': simpleImportSort },
    rules: {
      'simple-import-sort/imports': 'error',
      'simple-import-sort/exports': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'error',
      // Late-bound references read by closures before they are set (the hub and the engine refer to each other).
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // Interface implementations are async without awaiting (in-memory answers, closes with nothing to wait for).
      '@typescript-eslint/require-await': 'off',
      // TypeScript checks names; eslint's own rule does not know Node's or the DOM's globals.
      'no-undef': 'off',
      // `keyof Interface & string` names the augmentable registries' keys (JobPayloads, StepResults, NotifierChannels).
      '@typescript-eslint/no-redundant-type-constituents': 'off',
    },
  },
  {
    // Tests, benches and scripts talk to a person at a terminal.
    files: ['test/**', 'bench/**', 'scripts/**', '*.js'],
    // node:test's describe/test return promises the runner awaits itself.
    // Tests hand methods around (a temp dir's remove) and print whatever they got in messages.
    rules: {
      'no-console': 'off',
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  prettier,
);
