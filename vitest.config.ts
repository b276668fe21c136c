import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A test that connects anywhere but loopback fails, even when the code under test swallows the error.
    setupFiles: ['./test/rig/network-guard.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One test file per core. Vitest's default keeps a core free, which on a two-core machine runs the
    // files one at a time, though most of them wait on child processes (git, agent CLIs, daemons).
    maxWorkers: availableParallelism(),
  },
});
