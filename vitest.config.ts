import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // A test that starts the CLI several times can take 30 s on a loaded 2-core machine; this is for hangs.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Most of the suite waits on the processes it starts (the CLI, git, agents, servers), so two
    // files at a time on a 2-core machine (vitest's default there is one) keeps both cores busy.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // Starts PostgreSQL and Redis when they are down and installed; see test/support/services.ts.
    globalSetup: ['test/support/global-setup.ts'],
  },
});
