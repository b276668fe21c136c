import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Approval } from '../../src/core/approvals.js';
import { openOrch } from '../../src/engine/context.js';
import { addTask } from '../../src/engine/tasks.js';
import { orch as runOrch } from '../helpers/cli.js';
import { makeRepo, tempDir } from '../helpers/git.js';

// A person's side of approvals from the built CLI: the inbox, approve, deny, answer, and the refusals.

let scratch: { path: string; cleanup: () => void };
let home: string;
const orch = (...args: string[]) => runOrch(args, { cwd: scratch.path, home });

beforeEach(async () => {
  scratch = tempDir('orch-cli-approvals-');
  home = join(scratch.path, 'home');
  mkdirSync(home);
  writeFileSync(join(home, 'config.yaml'), JSON.stringify({ projects: { app: { path: makeRepo(scratch.path, 'app'), approvals: { enabled: true } } } }));
  // Three requests of one run, as its agent would have made them.
  const store = await openOrch(home);
  const task = await addTask(store.store, { project: 'app', title: 'Ask' }, store.now());
  const claim = (await store.store.claimTask({ taskId: task.id, owner: 'test:1', leaseMs: 60_000, now: store.now() }))!;
  const run = await store.store.createRun({ taskId: task.id, project: 'app', attempt: 1, agent: 'claude', startedAt: store.now() }, claim.token);
  const base = { project: 'app', taskId: task.id, runId: run.id };
  await store.store.createApproval({ ...base, kind: 'permission', tool: 'Bash', input: { command: 'npm publish' }, question: null }, store.now());
  await store.store.createApproval({ ...base, kind: 'permission', tool: 'WebFetch', input: { url: 'https://example.com' }, question: null }, store.now());
  await store.store.createApproval({ ...base, kind: 'question', tool: null, input: null, question: 'Which port?' }, store.now());
  await store.close();
});
afterEach(() => scratch.cleanup());

describe('orch approvals, approve, deny and answer', () => {
  it('list what waits, decide each once, and refuse what does not fit in one line', () => {
    const inbox = orch('approvals');
    expect(inbox.code, inbox.stderr).toBe(0);
    expect(inbox.stdout).toContain('Bash npm publish');
    expect(inbox.stdout).toContain('WebFetch https://example.com');
    expect(inbox.stdout).toContain('asks: Which port?');

    expect(orch('approve', '1', '--reason', 'release day')).toMatchObject({ code: 0, stdout: 'approval #1: allowed (release day)\n' });
    expect(orch('deny', '#2')).toMatchObject({ code: 0, stdout: 'approval #2: denied (denied by a person)\n' });
    const wrongKind = orch('approve', '3');
    expect(wrongKind.code).not.toBe(0);
    expect(wrongKind.stderr.trim()).toBe('orch: approval #3: this is a question: answer it (orch answer <id> <text>)');
    expect(orch('answer', '3', 'port', '8080')).toMatchObject({ code: 0 });
    const again = orch('deny', '1');
    expect(again.stderr.trim()).toBe('orch: approval #1 was already decided (allowed by person): nothing to do');
    expect(orch('approve', '9').stderr.trim()).toBe('orch: approval #9 not found: see `orch approvals`');
    expect(orch('approve', 'x').stderr.trim()).toContain('"x" is not an approval id');

    expect(orch('approvals').stdout.trim()).toBe('Nothing waits for a person.');
    const all = orch('approvals', '--all', '--json').json<Approval[]>();
    expect(all.map((a) => [a.id, a.state, a.decidedBy, a.reason])).toEqual([
      [1, 'allowed', 'person', 'release day'],
      [2, 'denied', 'person', 'denied by a person'],
      [3, 'answered', 'person', 'port 8080'],
    ]);
  });
});
