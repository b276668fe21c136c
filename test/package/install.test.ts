// `npm ci` is the README's first command: on every Node version the package supports it must install
// the locked tree without an engine warning (a dependency that wants a newer Node than ours).

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'orch-install-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('npm ci', () => {
  it(`installs the locked tree on Node ${process.versions.node} without an engine warning`, () => {
    for (const file of ['package.json', 'package-lock.json']) copyFileSync(join(repoRoot, file), join(scratch, file));
    // A dry run resolves the whole locked tree and checks every package's engines, offline, writing nothing.
    const result = spawnSync('npm', ['ci', '--dry-run', '--offline', '--no-audit', '--no-fund'], {
      cwd: scratch,
      encoding: 'utf8',
    });
    const output = `${result.stdout}${result.stderr}`;
    expect(result.status, output).toBe(0);
    expect(output).not.toMatch(/EBADENGINE/);
  });
});
