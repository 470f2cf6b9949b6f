import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**'],
    // Property tests over proofs hash many random trees; give them room on a 2-core machine.
    testTimeout: 60_000,
    // PGlite compiles PostgreSQL from WASM when a database opens: seconds on a busy 2-core machine.
    hookTimeout: 120_000,
  },
});
