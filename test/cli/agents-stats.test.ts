// `orch agents stats` with the built CLI, on a store holding finished runs of several agents, models
// and roles in two projects: the figures printed and in JSON, by project and by age.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Role, RunOutcome } from '../../src/core/types.js';
import { openOrch } from '../../src/engine/context.js';
import type { ScoreboardReport } from '../../src/engine/scoreboard.js';
import { orch as runOrch } from '../helpers/cli.js';
import { makeRepo, tempDir } from '../helpers/git.js';
import { endReasonFor } from '../store/fixtures.js';

let scratch: { path: string; cleanup: () => void };
let home: string;
let repo: string;
const orch = (...args: string[]) => runOrch(args, { cwd: repo, home });
const DAY = 86_400_000;

interface Spec {
  project: string;
  agent: string;
  model: string | null;
  role: Role;
  outcome: RunOutcome;
  costUsd: number;
  seconds: number;
  /** Set by a later step (the judge): the run is no success. */
  failure?: string;
  daysAgo?: number;
}

const RUNS: Spec[] = [
  { project: 'app', agent: 'claude', model: 'sonnet', role: 'implement', outcome: 'succeeded', costUsd: 1, seconds: 60 },
  { project: 'app', agent: 'claude', model: 'sonnet', role: 'implement', outcome: 'succeeded', costUsd: 2, seconds: 120, failure: 'judge: the tests failed' },
  { project: 'app', agent: 'claude', model: 'opus', role: 'review', outcome: 'succeeded', costUsd: 3, seconds: 30 },
  { project: 'app', agent: 'codex', model: null, role: 'implement', outcome: 'failed', costUsd: 0.5, seconds: 90 },
  { project: 'app', agent: 'codex', model: null, role: 'test', outcome: 'rate_limited', costUsd: 0, seconds: 10 },
  { project: 'web', agent: 'codex', model: 'gpt-5', role: 'implement', outcome: 'succeeded', costUsd: 0.25, seconds: 40, daysAgo: 10 },
];

beforeEach(async () => {
  scratch = tempDir('orch-cli-stats-');
  home = join(scratch.path, 'home');
  repo = makeRepo(scratch.path, 'app');
  const web = makeRepo(scratch.path, 'web');
  mkdirSync(home);
  writeFileSync(join(home, 'config.yaml'), JSON.stringify({ projects: { app: { path: repo, agents: ['claude', 'codex'] }, web: { path: web, agents: ['codex'] } } }));
  const o = await openOrch(home);
  try {
    const now = Date.now();
    for (const spec of RUNS) {
      const startedAt = now - (spec.daysAgo ?? 1) * DAY;
      const task = await o.store.createTask({ project: spec.project, title: `${spec.agent} ${spec.role}`, role: spec.role, state: 'routed' }, startedAt);
      const claim = (await o.store.claimTask({ taskId: task.id, owner: 'test', leaseMs: 60_000, now: startedAt }))!;
      const run = await o.store.createRun({ taskId: task.id, project: spec.project, attempt: 1, agent: spec.agent, model: spec.model, startedAt }, claim.token);
      const result = { reason: spec.outcome, ...(spec.failure ? { failure: spec.failure } : {}) };
      await o.store.updateRun(run.id, claim.token, { endedAt: startedAt + spec.seconds * 1000, outcome: spec.outcome, endReason: endReasonFor(spec.outcome, spec.failure), costUsd: spec.costUsd, tokensIn: 1000, tokensOut: 100, result }, startedAt);
      await o.store.releaseClaim(task.id, claim.token, startedAt);
    }
    // A run still going counts nowhere.
    const open = await o.store.createTask({ project: 'app', title: 'running', state: 'routed' }, now);
    const claim = (await o.store.claimTask({ taskId: open.id, owner: 'test', leaseMs: 60_000, now }))!;
    await o.store.createRun({ taskId: open.id, project: 'app', attempt: 1, agent: 'claude', model: 'sonnet', startedAt: now }, claim.token);
  } finally {
    await o.close();
  }
});
afterEach(() => scratch.cleanup());

describe('orch agents stats', () => {
  it('prints success rate, cost and time per agent, model and role', () => {
    const result = orch('agents', 'stats');
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.split('\n').map((l) => l.replace(/\s+/g, ' ').trim());
    // The rows under a table's header, up to the blank line that ends the table.
    const section = (title: string) => {
      const rows = lines.slice(lines.indexOf(`${title} RUNS OK SUCCESS COST AVG COST AVG TIME`) + 1);
      return rows.slice(0, rows.includes('') ? rows.indexOf('') : rows.length);
    };
    expect(lines[0]).toMatch(/^Finished runs\. OK: runs that succeeded and passed the judge/);
    expect(section('AGENT')).toEqual([
      'claude 3 2/3 67% $6.00 $2.00 1m10s',
      'codex 3 1/2 50% $0.75 $0.25 47s',
      'total 6 3/5 60% $6.75 $1.13 58s',
    ]);
    expect(section('MODEL')).toEqual([
      '(agent default) 2 0/1 0% $0.50 $0.25 50s',
      'sonnet 2 1/2 50% $3.00 $1.50 1m30s',
      'gpt-5 1 1/1 100% $0.25 $0.25 40s',
      'opus 1 1/1 100% $3.00 $3.00 30s',
      'total 6 3/5 60% $6.75 $1.13 58s',
    ]);
    expect(section('ROLE')).toEqual([
      'implement 4 2/4 50% $3.75 $0.94 1m18s',
      'review 1 1/1 100% $3.00 $3.00 30s',
      'test 1 0/0 - $0.00 $0.00 10s',
      'total 6 3/5 60% $6.75 $1.13 58s',
    ]);
  });

  it('gives the same figures as JSON, by project and by age', () => {
    const all = orch('agents', 'stats', '--json').json<ScoreboardReport>();
    expect(all.byAgent.find((l) => l.key === 'codex')).toEqual({ key: 'codex', runs: 3, succeeded: 1, judged: 2, successRate: 0.5, costUsd: 0.75, avgCostUsd: 0.25, avgDurationMs: 140_000 / 3, tokensIn: 3000, tokensOut: 300 });
    expect(all).toMatchObject({ project: null, sinceDays: null, since: null, total: { runs: 6, succeeded: 3, judged: 5, successRate: 0.6 } });

    const web = orch('agents', 'stats', '--project', 'web', '--json').json<ScoreboardReport>();
    expect(web.byAgent.map((l) => [l.key, l.runs, l.successRate])).toEqual([['codex', 1, 1]]);
    expect(web.byModel.map((l) => l.key)).toEqual(['gpt-5']);

    // The web run started ten days ago; the others one day ago.
    const recent = orch('agents', 'stats', '--since', '5', '--json').json<ScoreboardReport>();
    expect(recent.total).toMatchObject({ runs: 5, succeeded: 2, judged: 4, successRate: 0.5 });
    expect(recent.sinceDays).toBe(5);
    expect(orch('agents', 'stats', '--since', '5', '--project', 'web').stdout.trim()).toBe('No finished runs in web in the last 5 day(s).');
  });

  it('refuses an unknown project and a bad number of days', () => {
    const missing = orch('agents', 'stats', '--project', 'nowhere');
    expect([missing.code, missing.stderr.trim()]).toEqual([3, 'orch: project "nowhere" not found']);
    expect(orch('agents', 'stats', '--since', 'soon').code).toBe(2);
  });
});
