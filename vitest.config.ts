import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // A test that starts the CLI several times can take 30 s on a loaded 2-core machine; this is for hangs.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One file at a time on a 2-core machine (vitest's default): the suite is CPU-bound; two at a time
    // took 1703 s of vitest here, where one had taken 1278 s.
    // Starts PostgreSQL and Redis when they are down and installed; see test/support/services.ts.
    globalSetup: ['test/support/global-setup.ts'],
  },
});
