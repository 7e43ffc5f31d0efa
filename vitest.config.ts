import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Starts PostgreSQL and Redis when they are down and installed; see test/support/services.ts.
    globalSetup: ['test/support/global-setup.ts'],
  },
});
