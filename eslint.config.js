import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The suite's own TypeScript: linted with type information (tsconfig.json's project). */
const SUITE_TS = ['helpers/**/*.ts', 'fixtures/**/*.ts', 'tests/**/*.ts', 'reporters/**/*.ts', 'scripts/**/*.ts', 'harness/**/*.ts', 'playwright.config.ts'];

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'reference/node_modules/**',
      'reference/web/dist/**',
      'playwright-report/**',
      'test-results/**',
      'blob-report/**',
      '.stack/**',
      '.stack-*/**',
      'reports/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        Buffer: 'readonly',
        fetch: 'readonly',
        window: 'readonly',
        document: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-empty-pattern': 'off',
    },
  },
  // Type-aware rules for the suite (the reference stack keeps the level above): a promise nobody
  // awaits, a promise passed where a callback's result is ignored, an await on a plain value, an
  // assertion that changes nothing, an async function with nothing to wait for, and `any` leaking.
  {
    files: SUITE_TS,
    extends: [...tseslint.configs.recommendedTypeCheckedOnly],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    // Test doubles stand in for async interfaces with answers they already hold: `async` without
    // an await is how they keep the interface's shape.
    files: ['**/*.test.ts'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
);
