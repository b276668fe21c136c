import { describe, expect, it } from 'vitest';
import { T0, addProject, createTask, storeKinds, useTempStore } from './fixtures.js';

describe.each(storeKinds)('approvals in the store (%s)', (kind) => {
  const ctx = useTempStore(kind);

  async function aRun() {
    const { store } = ctx;
    await addProject(store);
    const task = await createTask(store);
    const claim = (await store.claimTask({ taskId: task.id, owner: 'host:1', leaseMs: 1000, now: T0 }))!;
    const run = await store.createRun({ taskId: task.id, project: 'web', attempt: 1, agent: 'claude', startedAt: T0 }, claim.token);
    return { task, run };
  }

  it('records a request, decides it once, and tells each step in an event', async () => {
    const { store } = ctx;
    const { task, run } = await aRun();
    const request = { project: 'web', taskId: task.id, runId: run.id, kind: 'permission' as const, tool: 'Bash', input: { command: 'npm publish' }, question: null };
    const pending = await store.createApproval(request, T0 + 1);
    expect(pending).toMatchObject({ kind: 'permission', tool: 'Bash', input: { command: 'npm publish' }, state: 'pending', decidedBy: null, createdAt: T0 + 1, decidedAt: null });
    expect(await store.listApprovals({ state: 'pending' })).toEqual([pending]);

    const decided = await store.decideApproval(pending.id, { state: 'allowed', decidedBy: 'person', reason: 'fine this once' }, T0 + 2);
    expect(decided).toMatchObject({ state: 'allowed', decidedBy: 'person', reason: 'fine this once', decidedAt: T0 + 2 });
    // The timeout arriving after a person decided changes nothing.
    expect(await store.decideApproval(pending.id, { state: 'timed_out', decidedBy: 'timeout', reason: 'late' }, T0 + 3)).toBeNull();
    expect(await store.getApproval(pending.id)).toEqual(decided);
    expect(await store.listApprovals({ state: 'pending' })).toEqual([]);

    const byRule = await store.createApproval({ ...request, input: { command: 'rm -rf /' } }, T0 + 4, { state: 'denied', decidedBy: 'rule', reason: 'denied by rule Bash(rm *)' });
    expect(byRule).toMatchObject({ state: 'denied', decidedBy: 'rule', decidedAt: T0 + 4 });
    const events = (await store.listEvents({})).filter((e) => e.type.startsWith('approval.'));
    expect(events.map((e) => [e.type, e.data.approval, e.data.state ?? null, e.data.decidedBy ?? null, e.taskId])).toEqual([
      ['approval.requested', pending.id, 'pending', null, task.id],
      ['approval.decided', pending.id, 'allowed', 'person', task.id],
      ['approval.requested', byRule.id, 'denied', null, task.id],
      ['approval.decided', byRule.id, 'denied', 'rule', task.id],
    ]);
    expect(events[3]!.data.reason).toBe('denied by rule Bash(rm *)');

    // A long input (a file an agent asks to write) is whole in the table, cut in its event.
    const content = 'x'.repeat(10_000);
    const big = await store.createApproval({ ...request, tool: 'Write', input: { file_path: '/w/big.txt', content } }, T0 + 5);
    expect((await store.getApproval(big.id))!.input).toEqual({ file_path: '/w/big.txt', content });
    const [requested] = (await store.listEvents({ types: ['approval.requested'], newestFirst: true, limit: 1 }));
    expect(requested!.data.input).toMatchObject({ chars: JSON.stringify({ file_path: '/w/big.txt', content }).length });
  });

  it('keeps questions with their answer and lists by run and project', async () => {
    const { store } = ctx;
    const { task, run } = await aRun();
    const question = await store.createApproval({ project: 'web', taskId: task.id, runId: run.id, kind: 'question', tool: null, input: null, question: 'Which port?' }, T0);
    await store.decideApproval(question.id, { state: 'answered', decidedBy: 'person', reason: '8080' }, T0 + 1);
    expect(await store.listApprovals({ runId: run.id })).toMatchObject([{ kind: 'question', question: 'Which port?', state: 'answered', reason: '8080' }]);
    expect(await store.listApprovals({ project: 'elsewhere' })).toEqual([]);
    await store.removeProject('web', T0 + 2);
    expect(await store.listApprovals()).toEqual([]);
  });
});
