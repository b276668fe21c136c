// `npm test` on a machine without Chromium: it stops before the long run, naming the package to install,
// instead of ending in the dashboard test's failure after every other suite has run.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { tempDir } from '../helpers/git.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

const scratch = tempDir();
afterEach(() => scratch.cleanup());

it('stops at once, naming Debian\'s chromium package, when Chromium is missing', async () => {
  const missing = join(scratch.path, 'chromium');
  // Its own process group, so that a test command which went on to run the suites is stopped whole.
  const child = spawn('node', ['scripts/test.mjs'], {
    cwd: repoRoot,
    env: { ...process.env, CHROMIUM_PATH: missing },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const stopAfterChecks = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 50_000);
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(stopAfterChecks);

  expect(exitCode).toBe(1);
  expect(output.trim().split('\n')).toEqual([
    `Chromium is missing at ${missing}: install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH`,
    '',
    '0 passed, 1 failed',
  ]);
});
