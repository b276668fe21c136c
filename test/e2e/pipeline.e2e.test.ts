// The whole pipeline with the real Claude Code CLI against the fake model server: a backlog of six
// tasks on a sample repository with a real test suite, three agents at a time. Four merge cleanly,
// one breaks the tests (retried with the failure in its prompt, then left to a person), one conflicts
// with an earlier merge and has its conflict resolved by the agent. The user's checkout, holding an
// uncommitted edit, is never touched.

import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openOrch } from '../../src/engine/context.js';
import { runCycle } from '../../src/engine/cycle.js';
import { addTask } from '../../src/engine/tasks.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';
import { cliAvailable, cliPath, missingCliMessage } from '../rig/agent-clis.js';
import type { Script } from '../rig/fake-model/script.js';
import { startFakeModelServer } from '../rig/fake-model/server.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const done = (summary: string) => ['Finished.', '```json', JSON.stringify({ status: 'done', summary, remaining: '', follow_ups: [] }), '```'].join('\n');
const usage = { usage: { input: 1000, output: 100 } };

/** Every file of the working tree (not .git) with its content hash: the user's checkout, byte for byte. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (at: string) => {
    for (const name of readdirSync(at)) {
      if (at === dir && name === '.git') continue;
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path);
      else files[relative(dir, path)] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  walk(dir);
  return files;
}

describe('six tasks, three agents at a time, real claude against the fake model', () => {
  it('merges four, retries and escalates the one that breaks the tests, resolves the conflict, and leaves the checkout alone', async () => {
    expect(cliAvailable('claude'), missingCliMessage('claude')).toBe(true);
    const scratch = tempDir('orch-pipeline-');
    cleanups.push(scratch.cleanup);

    // The user's repository: a small library with a real test suite, on branch main.
    const repo = makeRepo(scratch.path, 'shop');
    mkdirSync(join(repo, 'src'));
    mkdirSync(join(repo, 'test'));
    writeFileSync(join(repo, 'src', 'config.txt'), 'currency = EUR\n');
    writeFileSync(
      join(repo, 'test', 'run.sh'),
      ['#!/bin/sh', '# Every src/*.txt must be a key = value line; "BROKEN" anywhere fails the suite.', 'if grep -rq BROKEN src; then echo "FAIL: src contains BROKEN" >&2; exit 1; fi', 'for f in src/*.txt; do grep -q " = " "$f" || { echo "FAIL: $f has no key = value line" >&2; exit 1; }; done', 'echo "all tests pass"', ''].join('\n'),
    );
    chmodSync(join(repo, 'test', 'run.sh'), 0o755);
    git(repo, ['add', '-A']);
    git(repo, ['commit', '-q', '-m', 'shop with tests']);
    const originalMain = git(repo, ['rev-parse', 'main']);
    // The user works on another branch and has an uncommitted edit there.
    git(repo, ['checkout', '-q', '-b', 'my-work']);
    writeFileSync(join(repo, 'src', 'config.txt'), 'currency = EUR\n# my uncommitted note\n');
    const checkoutBefore = snapshot(repo);

    const scripts: Record<number, Script> = {
      // Claude edits only files it has read in the session, so existing files are rewritten from the shell.
      1: [{ text: 'Setting the tax rate.', tools: [{ tool: 'shell', command: "printf 'currency = EUR\\ntax = 20\\n' > src/config.txt" }], ...usage }, { text: done('tax rate'), ...usage }],
      2: [{ text: 'Adding shipping.', tools: [{ tool: 'write_file', path: 'src/shipping.txt', content: 'shipping = 5\n' }], ...usage }, { text: done('shipping'), ...usage }],
      3: [{ text: 'Adding discounts.', tools: [{ tool: 'write_file', path: 'src/discount.txt', content: 'discount = 10\n' }], ...usage }, { text: done('discounts'), ...usage }],
      4: [{ text: 'Adding a greeting.', tools: [{ tool: 'write_file', path: 'src/greeting.txt', content: 'greeting = hello\n' }], ...usage }, { text: done('greeting'), ...usage }],
      5: [{ text: 'Refactoring.', tools: [{ tool: 'write_file', path: 'src/refactor.txt', content: 'BROKEN\n' }], ...usage }, { text: done('refactored'), ...usage }],
      // Slow, and edits the line task 1 changes first: its rebase conflicts.
      6: [{ text: 'Switching currency.', tools: [{ tool: 'shell', command: "printf 'currency = USD\\n' > src/config.txt" }], delayMs: 2500, ...usage }, { text: done('currency'), ...usage }],
    };
    const resolution: Script = [
      { text: 'Resolving.', tools: [{ tool: 'shell', command: "printf 'currency = USD\\ntax = 20\\n' > src/config.txt" }], ...usage },
      { text: 'Resolved the conflict: kept the tax rate and the new currency.', ...usage },
    ];
    const server = await startFakeModelServer({
      scriptFor: (texts) => {
        const all = texts.join('\n');
        if (all.includes('Resolve a rebase conflict')) return resolution;
        const id = /# Task #(\d+):/.exec(all)?.[1];
        return id ? scripts[Number(id)] : undefined;
      },
    });
    cleanups.push(() => server.close());

    const home = join(scratch.path, 'home');
    mkdirSync(home);
    writeFileSync(
      join(home, 'config.yaml'),
      JSON.stringify({
        scheduler: { max_agents: 3, tick_interval_s: 1 },
        prices: { 'fake-model': { input: 5, output: 25 } },
        agents: {
          claude: { command: cliPath('claude'), model: 'fake-model', env: [`ANTHROPIC_BASE_URL=${server.url}`, 'ANTHROPIC_API_KEY=fake-key', 'CLAUDE_CODE_MAX_RETRIES=0', 'DISABLE_AUTOUPDATER=1'] },
        },
        projects: {
          shop: {
            path: repo,
            default_branch: 'main',
            max_agents: 3,
            max_attempts: 2,
            backoff: { base_s: 0.2, cap_s: 1, jitter: 0 },
            judge: { test: ['sh', 'test/run.sh'], timeout_s: 60 },
          },
        },
      }),
    );
    const orch = await openOrch(home);
    cleanups.push(() => orch.close());

    const titles = ['Add a tax rate', 'Add shipping costs', 'Add discounts', 'Add a greeting', 'Refactor the config', 'Switch the currency to USD'];
    // Task 6 starts with task 1 and finishes after it: its branch predates the line it changes.
    const priorities = [3, 2, 2, 0, 0, 3];
    const ids: number[] = [];
    for (const [i, title] of titles.entries()) ids.push((await addTask(orch.store, { project: 'shop', title, priority: priorities[i] }, orch.now())).id);
    expect(ids).toEqual([1, 2, 3, 4, 5, 6]);

    let peak = 0;
    let running = 0;
    await runCycle(orch, {
      once: true,
      pollMs: 100,
      sourceEnv: { PATH: process.env.PATH },
      onProgress: (p) => {
        if (p.type === 'started') peak = Math.max(peak, ++running);
        if (p.type === 'finished' || p.type === 'failed') running--;
      },
    });

    const state = async (id: number) => (await orch.store.getTask(id))!;
    for (const id of [1, 2, 3, 4, 6]) expect((await state(id)).state, `task ${id}: ${(await state(id)).blockedReason}`).toBe('done');
    expect(peak).toBe(3);

    // Task 5 broke the tests twice: the second attempt was told why, then a person is asked.
    const broken = await state(5);
    expect(broken.state).toBe('needs_review');
    expect(broken.attempts).toBe(2);
    const runs5 = await orch.store.listRuns({ taskId: 5 });
    expect(runs5).toHaveLength(2);
    expect(readFileSync(join(orch.home, 'runs', String(runs5[1]!.id), 'prompt.md'), 'utf8')).toContain('FAIL: src contains BROKEN');
    expect(readFileSync(join(orch.home, 'runs', String(runs5[0]!.id), 'verdict.md'), 'utf8')).toContain('FAIL: src contains BROKEN');

    // Task 6 conflicted with task 1; the agent resolved it and the result kept both changes.
    const events6 = (await orch.store.listEvents({ taskId: 6 })).map((e) => e.type);
    expect(events6).toEqual(expect.arrayContaining(['merge.conflict', 'merge.resolution', 'merge.done']));

    // main moved only by fast-forwards: the original tip is an ancestor, and the tests pass at every step.
    const main = git(repo, ['rev-parse', 'main']);
    expect(git(repo, ['merge-base', '--is-ancestor', originalMain, main]) === '').toBe(true);
    const merged = git(repo, ['rev-list', '--reverse', `${originalMain}..main`]).split('\n');
    expect(merged).toHaveLength(5);
    const check = join(scratch.path, 'check');
    git(scratch.path, ['clone', '-q', repo, check]);
    for (const commit of merged) {
      git(check, ['checkout', '-q', '--detach', commit]);
      expect(git(check, ['show', '-s', '--format=%b', commit])).toMatch(/Orch task #\d/);
      const { execFileSync } = await import('node:child_process');
      expect(execFileSync('sh', ['test/run.sh'], { cwd: check, encoding: 'utf8' })).toContain('all tests pass');
    }
    git(check, ['checkout', '-q', '--detach', main]);
    expect(readFileSync(join(check, 'src', 'config.txt'), 'utf8')).toBe('currency = USD\ntax = 20\n');

    // The user's checkout: same branch, same files, the uncommitted edit intact.
    expect(git(repo, ['rev-parse', '--abbrev-ref', 'HEAD'])).toBe('my-work');
    expect(snapshot(repo)).toEqual(checkoutBefore);
    expect(git(repo, ['status', '--porcelain'])).toBe('M src/config.txt');

    // Nothing left behind: no claims, no running runs, only task 5's worktree (kept for a person) and
    // the spare made ready for the next task.
    expect(await orch.store.listClaims()).toEqual([]);
    expect(await orch.store.listRuns({ open: true })).toEqual([]);
    expect(readdirSync(join(home, 'projects', 'shop', 'worktrees')).sort()).toEqual(['5', 'spare']);
  });
});
