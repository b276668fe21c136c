import { describe, expect, it } from 'vitest';
import type { Approval } from '../../src/core/approvals.js';
import { addTask } from '../../src/engine/tasks.js';
import { useServer } from './harness.js';

describe('the approvals inbox over HTTP', () => {
  const h = useServer();

  async function requests(): Promise<Approval[]> {
    const { store } = h.orch;
    const task = await addTask(store, { project: 'app', title: 'Ask' }, h.orch.now());
    const claim = (await store.claimTask({ taskId: task.id, owner: 'test:1', leaseMs: 60_000, now: h.orch.now() }))!;
    const run = await store.createRun({ taskId: task.id, project: 'app', attempt: 1, agent: 'claude', startedAt: h.orch.now() }, claim.token);
    const base = { project: 'app', taskId: task.id, runId: run.id };
    return [
      await store.createApproval({ ...base, kind: 'permission', tool: 'Bash', input: { command: 'npm publish' }, question: null }, h.orch.now()),
      await store.createApproval({ ...base, kind: 'question', tool: null, input: null, question: 'Which port?' }, h.orch.now()),
    ];
  }

  it('lists pending requests and takes a decision on each, behind the API token', async () => {
    const [permission, question] = await requests();
    expect((await h.call('/approvals', { token: null })).status).toBe(401);
    expect(((await (await h.call('/approvals')).json()) as Approval[]).map((a) => a.id)).toEqual([permission!.id, question!.id]);

    const denied = await h.call(`/approvals/${permission!.id}/deny`, { body: { reason: 'not from an agent' } });
    expect(denied.status).toBe(200);
    expect(await denied.json()).toMatchObject({ state: 'denied', decidedBy: 'person', reason: 'not from an agent' });
    const twice = await h.call(`/approvals/${permission!.id}/approve`, { body: {} });
    expect(twice.status).toBe(409);

    expect((await h.call(`/approvals/${question!.id}/answer`, { body: {} })).status).toBe(400);
    expect(await (await h.call(`/approvals/${question!.id}/answer`, { body: { answer: '8080' } })).json()).toMatchObject({ state: 'answered', reason: '8080' });

    expect(await (await h.call('/approvals')).json()).toEqual([]);
    expect(((await (await h.call('/approvals?state=all')).json()) as Approval[]).map((a) => a.state)).toEqual(['denied', 'answered']);
    expect((await h.call('/approvals?state=maybe')).status).toBe(400);
    expect((await h.call('/approvals/99')).status).toBe(404);
  });
});
