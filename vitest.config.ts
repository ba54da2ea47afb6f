import { defineConfig } from 'vitest/config';

// Integration tests open real loopback sockets; each file cleans up after itself.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // A leaked handle keeps a fork alive: fail rather than hang (STYLE rule 11).
    teardownTimeout: 10_000,
  },
});
