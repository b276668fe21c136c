// Held deliveries over the API: the portfolio and a project's status say what waits for the checkout
// and why, and `POST /projects/:name/deliver` tries it now.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HeldDelivery } from '../../src/core/delivery.js';
import type { PortfolioReport } from '../../src/core/run-stats.js';
import { ensureClone } from '../../src/workspace/clone.js';
import { worktreesDir } from '../../src/workspace/layout.js';
import { createWorktree } from '../../src/workspace/worktrees.js';
import { git } from '../helpers/git.js';
import { commitFile } from '../workspace/fixtures.js';
import { json, useServer } from './harness.js';

const h = useServer();

/** Two commits merged in Orch's clone while the person's checkout has an unsaved edit. */
async function holdTwoCommits(): Promise<{ repo: string; merged: string }> {
  const repo = h.orch.config.projects.app!.path!;
  commitFile(repo, 'app.txt', 'version 1\n');
  const clone = (await ensureClone(h.orch.home, { name: 'app', path: repo, remote: null, defaultBranch: 'main' })).path;
  const worktree = await createWorktree(clone, worktreesDir(h.orch.home, 'app'), 1, 'orch/1-task', 'main');
  commitFile(worktree.path, 'one.txt', 'one\n');
  const merged = commitFile(worktree.path, 'two.txt', 'two\n');
  git(clone, ['update-ref', 'refs/heads/main', merged]);
  writeFileSync(join(repo, 'app.txt'), 'unsaved\n');
  return { repo, merged };
}

describe('held deliveries over HTTP', () => {
  it('shows them on the portfolio and the project, refuses to deliver into a dirty checkout, and delivers once it is clean', async () => {
    const { repo, merged } = await holdTwoCommits();
    const portfolio = await json<PortfolioReport>(await h.call('/portfolio'));
    expect(portfolio.projects[0]?.delivery).toMatchObject({ project: 'app', commits: 2, reason: null, summary: '2 commits waiting for your checkout: not delivered yet (`orch deliver` delivers now)' });

    const refused = await h.call('/projects/app/deliver', { method: 'POST' });
    expect(refused.status).toBe(409);
    expect((await json<{ error: { code: string; message: string } }>(refused)).error).toEqual({
      code: 'conflict',
      message: 'app: 2 commits waiting for your checkout: changes in your checkout of main are in the way (Working directory has unstaged changes): commit or stash them',
    });
    const status = await json<{ delivery: HeldDelivery }>(await h.call('/projects/app'));
    expect(status.delivery).toMatchObject({ commits: 2, reason: 'dirty_checkout' });
    expect(git(repo, ['rev-parse', 'main'])).not.toBe(merged);

    git(repo, ['checkout', '--', 'app.txt']);
    const delivered = await h.call('/projects/app/deliver', { method: 'POST' });
    expect(delivered.status).toBe(200);
    expect(await json(delivered)).toEqual({ project: 'app', commits: 2, result: { delivered: true }, held: null });
    expect(git(repo, ['rev-parse', 'main'])).toBe(merged);
    expect(git(repo, ['status', '--porcelain'])).toBe('');
    expect((await json<PortfolioReport>(await h.call('/portfolio'))).projects[0]?.delivery).toBeNull();

    // Nothing waits now: asking again is harmless; a project that does not exist is not found.
    expect(await json(await h.call('/projects/app/deliver', { method: 'POST' }))).toMatchObject({ commits: 0, result: { delivered: true } });
    expect((await h.call('/projects/nope/deliver', { method: 'POST' })).status).toBe(404);
    expect((await h.call('/projects/app/deliver', { body: { now: true } })).status).toBe(400);
  });
});
