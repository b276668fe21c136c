// What a person did in the tracker while Orch was down is seen at the next start, though the first sync
// lists only ready issues: a closed or deleted issue cancels its task, a held one holds it, one still
// open leaves it be. GitHub through the real Octokit against the fake GitHub, Linear against the fake.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openOrch, type Orch } from '../../src/engine/context.js';
import { TrackerSync } from '../../src/engine/tracker-sync.js';
import { makeRepo, tempDir } from '../helpers/git.js';
import { startFakeGitHub } from '../rig/fake-github/server.js';
import { startFakeLinear } from '../rig/fake-linear/server.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function orchWith(tracker: Record<string, unknown>): Promise<Orch> {
  const scratch = tempDir('orch-tracker-restart-');
  cleanups.push(scratch.cleanup);
  const repo = makeRepo(scratch.path, 'app');
  const home = join(scratch.path, 'home');
  mkdirSync(home);
  writeFileSync(join(home, 'config.yaml'), JSON.stringify({ agents: { writer: { kind: 'command', command: 'true' } }, projects: { app: { path: repo, agents: ['writer'], tracker } } }));
  const orch = await openOrch(home);
  cleanups.push(() => orch.close());
  return orch;
}

const states = async (orch: Orch) => Object.fromEntries((await orch.store.listTasks({ project: 'app' })).map((t) => [t.title, [t.state, t.blockKind]]));

describe('a start reconciles with what people did while Orch was down', () => {
  it('GitHub: closed, held and open issues of open tasks', async () => {
    const token = 'ghs_restart_token_00000000000000000000';
    const github = await startFakeGitHub({ token });
    cleanups.push(() => github.close());
    const repository = github.repository('acme/app');
    const titles = ['Closed while down', 'Held while down', 'Untouched'];
    const issues = titles.map((title) => repository.addIssue({ title, body: 'Work.', labels: ['orch'] }));
    const orch = await orchWith({ kind: 'github', repo: 'acme/app', labels: ['orch'], api_url: github.url });
    const [first] = await new TrackerSync(orch, { env: { GITHUB_TOKEN: token } }).syncDue();
    expect(first).toMatchObject({ error: null, created: [1, 2, 3] });

    // Orch is down; a person closes one issue and holds another.
    repository.updateIssue(issues[0]!.number, { state: 'closed' });
    repository.updateIssue(issues[1]!.number, { labels: ['orch', 'blocked'] });

    const [again] = await new TrackerSync(orch, { env: { GITHUB_TOKEN: token } }).syncDue();
    expect(again).toMatchObject({ error: null, cancelled: [1], held: [2] });
    expect(await states(orch)).toEqual({
      'Closed while down': ['cancelled', null],
      'Held while down': ['blocked', 'tracker'],
      Untouched: ['new', null],
    });
  });

  it('Linear: cancelled, moved back to Backlog and deleted issues of open tasks', async () => {
    const apiKey = 'lin_api_restartKey';
    const linear = await startFakeLinear({ apiKey });
    cleanups.push(() => linear.close());
    const ws = linear.workspace;
    ws.addTeam('ENG');
    const titles = ['Cancelled while down', 'Back to Backlog', 'Deleted while down', 'Untouched'];
    const issues = titles.map((title) => ws.addIssue({ team: 'ENG', title, description: 'Work.', state: 'Todo' }));
    const orch = await orchWith({ kind: 'linear', team: 'ENG', api_url: linear.url });
    const env = { LINEAR_API_KEY: apiKey };
    const [first] = await new TrackerSync(orch, { env }).syncDue();
    expect(first).toMatchObject({ error: null, created: [1, 2, 3, 4] });

    linear.clock.advance(1000);
    ws.updateIssue(issues[0]!.id, { state: 'Canceled' });
    ws.updateIssue(issues[1]!.id, { state: 'Backlog' });
    ws.issues.delete(issues[2]!.id);

    const [again] = await new TrackerSync(orch, { env }).syncDue();
    expect(again).toMatchObject({ error: null, cancelled: [1, 3], held: [2] });
    expect(await states(orch)).toEqual({
      'Cancelled while down': ['cancelled', null],
      'Back to Backlog': ['blocked', 'tracker'],
      'Deleted while down': ['cancelled', null],
      Untouched: ['new', null],
    });
    expect(linear.failures).toEqual([]);
  });
});
