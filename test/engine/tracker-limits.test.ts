// An issue that could never run as a task (a NUL in it, a body over the limit) is refused by the
// tracker sync with its reason recorded once, whichever tracker it came from, and the sync goes on
// with the other issues: GitHub (the fake GitHub through the real Octokit), Linear (the fake Linear)
// and the markdown queue (files on disk).

import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../src/core/task-limits.js';
import { openOrch, type Orch } from '../../src/engine/context.js';
import { TrackerSync } from '../../src/engine/tracker-sync.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';
import { startFakeGitHub } from '../rig/fake-github/server.js';
import { startFakeLinear } from '../rig/fake-linear/server.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const OVERSIZE = 'x'.repeat(MAX_BODY_BYTES + 1);

async function orchWith(tracker: Record<string, unknown>, prepare: (repo: string) => void = () => undefined): Promise<{ orch: Orch; repo: string }> {
  const scratch = tempDir('orch-tracker-limits-');
  cleanups.push(scratch.cleanup);
  const repo = makeRepo(scratch.path, 'app');
  prepare(repo);
  const home = join(scratch.path, 'home');
  mkdirSync(home);
  writeFileSync(join(home, 'config.yaml'), JSON.stringify({ agents: { writer: { kind: 'command', command: 'true' } }, projects: { app: { path: repo, agents: ['writer'], tracker } } }));
  const orch = await openOrch(home);
  cleanups.push(() => orch.close());
  return { orch, repo };
}

async function skipped(orch: Orch): Promise<{ ref: string | null; reason: string }[]> {
  return (await orch.store.listEvents({ types: ['tracker.skipped'] })).map((event) => {
    const { ref, reason } = event.data as { ref: string | null; reason: string };
    return { ref, reason };
  });
}

describe('issues over the limits are refused with a reason, and the sync goes on', () => {
  it('GitHub: a NUL or an oversize body is refused once; an edit that adds one leaves the task as it was', async () => {
    const token = 'ghs_limits_token_000000000000000000000';
    const github = await startFakeGitHub({ token });
    cleanups.push(() => github.close());
    const repository = github.repository('acme/app');
    const good = repository.addIssue({ title: 'Add a README', body: 'Short and sweet.', labels: ['orch'] });
    const nul = repository.addIssue({ title: 'Binary paste', body: 'see\0this', labels: ['orch'] });
    const big = repository.addIssue({ title: 'Huge log', body: OVERSIZE, labels: ['orch'] });
    const { orch } = await orchWith({ kind: 'github', repo: 'acme/app', labels: ['orch'], api_url: github.url });
    const sync = new TrackerSync(orch, { env: { GITHUB_TOKEN: token } });

    const [first] = await sync.syncDue();
    expect(first).toMatchObject({ error: null, created: [1] });
    expect((await orch.store.getTask(1))!.externalRef).toBe(`github:acme/app#${good.number}`);
    expect(await skipped(orch)).toEqual([
      { ref: `github:acme/app#${nul.number}`, reason: expect.stringMatching(/^a task body must not contain a NUL character/) },
      { ref: `github:acme/app#${big.number}`, reason: expect.stringMatching(/^a task body must be at most 256 KiB, this one is 256\.1 KiB/) },
    ]);

    repository.updateIssue(good.number, { body: 'Now with\0a NUL.' });
    repository.updateIssue(big.number, { title: 'Huge log, again' });
    sync.requestSync();
    const [second] = await sync.syncDue();
    expect(second).toMatchObject({ error: null, created: [], updated: [] });
    expect((await orch.store.getTask(1))!.body).toBe('Short and sweet.');
    const reasons = await skipped(orch);
    // The edit is refused once; the oversize issue, seen again for the same reason, is not recorded again.
    expect(reasons).toHaveLength(3);
    expect(reasons[2]).toEqual({ ref: `github:acme/app#${good.number}`, reason: expect.stringMatching(/NUL character/) });
  });

  it('Linear: a NUL in the title or an oversize description is refused', async () => {
    const apiKey = 'lin_api_limitsKey';
    const linear = await startFakeLinear({ apiKey });
    cleanups.push(() => linear.close());
    const ws = linear.workspace;
    ws.addTeam('ENG');
    ws.addIssue({ team: 'ENG', title: 'Fix login', description: 'It fails.', labels: ['orch'] });
    const nul = ws.addIssue({ team: 'ENG', title: 'Odd\0title', labels: ['orch'] });
    const big = ws.addIssue({ team: 'ENG', title: 'Huge', description: OVERSIZE, labels: ['orch'] });
    const { orch } = await orchWith({ kind: 'linear', team: 'ENG', labels: ['orch'], api_url: linear.url });
    const sync = new TrackerSync(orch, { env: { LINEAR_API_KEY: apiKey } });

    const [report] = await sync.syncDue();
    expect(report).toMatchObject({ error: null, created: [1] });
    expect((await orch.store.getTask(1))!.title).toBe('Fix login');
    expect((await skipped(orch)).sort((a, b) => a.ref!.localeCompare(b.ref!))).toEqual(
      [
        { ref: `linear:${ws.identifier(nul)}`, reason: expect.stringMatching(/^a task title must not contain a NUL character/) },
        { ref: `linear:${ws.identifier(big)}`, reason: expect.stringMatching(/^a task body must be at most 256 KiB/) },
      ].sort((a, b) => a.ref.localeCompare(b.ref)),
    );
    sync.requestSync();
    await sync.syncDue();
    expect(await skipped(orch)).toHaveLength(2);
  });

  it('markdown queue: an oversize file is never read whole, a NUL is refused, and both stay in incoming/', async () => {
    const { orch, repo } = await orchWith({ kind: 'markdown', dir: 'queue' }, (path) => {
      writeFileSync(join(path, '.gitignore'), 'queue/\n');
      git(path, ['add', '.gitignore']);
      git(path, ['commit', '-q', '-m', 'ignore the queue']);
      const incoming = join(path, 'queue', 'incoming');
      mkdirSync(incoming, { recursive: true });
      writeFileSync(join(incoming, '0001-fine.md'), '# Fine\n\nDo it.\n');
      writeFileSync(join(incoming, '0002-nul.md'), '# Pasted\n\nbinary\0junk\n');
      writeFileSync(join(incoming, '0003-large.md'), `# Large\n\n${OVERSIZE}\n`);
      // Past what a task file may hold: refused from its size, without reading it.
      writeFileSync(join(incoming, '0004-huge.md'), `# Huge\n\n${'y'.repeat(2 * 1024 * 1024)}\n`);
    });
    const sync = new TrackerSync(orch);
    const [report] = await sync.syncDue();
    expect(report).toMatchObject({ error: null, created: [1] });
    const queue = join(repo, 'queue');
    // The fine file waits in incoming/ until its agent starts; the refused ones stay there for a person.
    expect(readdirSync(join(queue, 'incoming')).sort()).toEqual(['0001-fine.md', '0002-nul.md', '0003-large.md', '0004-huge.md']);
    expect(await skipped(orch)).toEqual([
      { ref: null, reason: expect.stringMatching(/^queue\/incoming\/0004-huge\.md: a task body must be at most 256 KiB, this one is in a file of 2\.\d MiB/) },
      { ref: 'queue:0002-nul.md', reason: expect.stringMatching(/^a task body must not contain a NUL character/) },
      { ref: 'queue:0003-large.md', reason: expect.stringMatching(/^a task body must be at most 256 KiB/) },
    ]);
    // Asked again, unchanged files are not recorded again.
    sync.requestSync();
    await sync.syncDue();
    expect(await skipped(orch)).toHaveLength(3);
    expect(existsSync(join(queue, 'incoming', '0004-huge.md'))).toBe(true);
  });
});
