import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**'],
    // Property tests over proofs hash many random trees; give them room on a 2-core machine.
    testTimeout: 60_000,
  },
});
