import { defineConfig } from 'vitest/config';

// Unit tests only: `*.test.ts` beside the code they test. Playwright owns `tests/*.spec.ts`.
export default defineConfig({
  test: {
    include: ['helpers/**/*.test.ts', 'reporters/**/*.test.ts', 'scripts/**/*.test.ts', 'harness/**/*.test.ts', 'reference/**/*.test.ts', 'reference/**/*.test.tsx'],
    exclude: ['**/node_modules/**', 'reference/web/dist/**'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/unit.json' },
  },
});
