import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['src/net/polyfill.ts', 'test/setup/fast-check-seed.ts'],
    // The machine has 2 cores; the storage crash test spawns child processes.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
