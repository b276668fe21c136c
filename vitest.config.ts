import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';

// Kill and restart daemons at random moments: they run alone, after every other file, so the load of
// other test files does not change what it exercises from one run to the next.
const ALONE = ['test/e2e/chaos.e2e.test.ts', 'test/e2e/multi-host-chaos.e2e.test.ts'];

export default defineConfig({
  test: {
    // A test that connects anywhere but loopback fails, even when the code under test swallows the error.
    setupFiles: ['./test/rig/network-guard.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One test file per core. Vitest's default keeps a core free, which on a two-core machine runs the
    // files one at a time, though most of them wait on child processes (git, agent CLIs, daemons).
    maxWorkers: availableParallelism(),
    projects: [
      { extends: true, test: { name: 'parallel', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...ALONE] } },
      { extends: true, test: { name: 'alone', include: ALONE, maxWorkers: 1, sequence: { groupOrder: 1 } } },
    ],
  },
});
