import { describe, expect, it, vi } from 'vitest';
import type { Claim, Project, Run, Task } from '../../src/core/types.js';
import type { ProjectStatus } from '../../src/engine/projects.js';
import { json, useServer } from './harness.js';

const h = useServer();

type ErrorBody = { error: { code: string; message: string } };

async function createTask(body: Record<string, unknown>): Promise<Task> {
  const response = await h.call('/tasks', { body: { project: 'app', ...body } });
  expect(response.status).toBe(201);
  return json<Task>(response);
}

describe('authentication', () => {
  it('refuses a request without the token, or with the wrong one, with a JSON 401', async () => {
    for (const token of [null, 'wrong', 'a'.repeat(63), `${'a'.repeat(64)}x`]) {
      const response = await h.call('/tasks', { token });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const body = await json<ErrorBody>(response);
      expect(body.error.code).toBe('unauthorized');
    }
    const malformed = await h.call('/tasks', { token: null, headers: { Authorization: `Basic ${'a'.repeat(64)}` } });
    expect(malformed.status).toBe(401);
  });

  it('refuses unknown routes without the token too, so they cannot be probed', async () => {
    expect((await h.call('/nowhere', { token: null })).status).toBe(401);
    const known = await h.call('/nowhere');
    expect(known.status).toBe(404);
    expect((await json<ErrorBody>(known)).error.code).toBe('not_found');
  });

  it('serves /healthz without a token', async () => {
    const response = await h.call('/healthz', { token: null });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, version: expect.stringMatching(/^\d+\.\d+\.\d+/), storage: 'ok', dispatching: true });
  });

  it('accepts the scheme in any case', async () => {
    const response = await h.call('/projects', { token: null, headers: { Authorization: `bearer ${'a'.repeat(64)}` } });
    expect(response.status).toBe(200);
  });
});

describe('tasks', () => {
  it('creates a task with 201 and a Location, and asks for a tick', async () => {
    const response = await h.call('/tasks', { body: { project: 'app', title: 'Add a README', labels: ['docs'], priority: 2, role: 'implement' } });
    expect(response.status).toBe(201);
    const task = await json<Task>(response);
    expect(task).toMatchObject({ project: 'app', title: 'Add a README', labels: ['docs'], priority: 2, state: 'new' });
    expect(response.headers.get('location')).toBe(`/tasks/${task.id}`);
    expect(h.ticksRequested).toBe(1);
  });

  it('lists tasks filtered by project, states and limit', async () => {
    const a = await createTask({ title: 'A' });
    const b = await createTask({ title: 'B', dependsOn: [a.id] });
    await createTask({ title: 'C' });
    const all = await json<Task[]>(await h.call('/tasks?project=app'));
    expect(all.map((t) => t.title)).toEqual(['A', 'B', 'C']);
    const blocked = await json<Task[]>(await h.call('/tasks?state=blocked,cancelled'));
    expect(blocked.map((t) => t.id)).toEqual([b.id]);
    expect(await json<Task[]>(await h.call('/tasks?limit=2'))).toHaveLength(2);
    expect(await json<Task[]>(await h.call('/tasks?project=other'))).toEqual([]);
  });

  it('reads one task with its runs and claim', async () => {
    const task = await createTask({ title: 'Read me' });
    const response = await h.call(`/tasks/${task.id}`);
    expect(response.status).toBe(200);
    expect(await json<{ task: Task; runs: Run[]; claim: Claim | null }>(response)).toEqual({ task, routing: null, runs: [], claim: null });
  });

  it('answers 400 naming the field for each bad field', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ project: 'app' }, /^title: required$/],
      [{ project: 'app', title: '   ' }, /^title: expected a non-empty string$/],
      [{ project: 'app', title: 7 }, /^title: expected a non-empty string$/],
      [{ project: 'app', title: 'x', priority: 1.5 }, /^priority: expected a whole number$/],
      [{ project: 'app', title: 'x', role: 'boss' }, /^role: expected one of implement, /],
      [{ project: 'app', title: 'x', labels: ['ok', 3] }, /^labels\[1\]: expected a non-empty string$/],
      [{ project: 'app', title: 'x', dependsOn: [0] }, /^dependsOn\[0\]: expected a positive whole number$/],
      [{ project: 'app', title: 'x', depends_on: [1] }, /^depends_on: unknown field$/],
    ];
    for (const [body, message] of cases) {
      const response = await h.call('/tasks', { body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      const error = (await json<ErrorBody>(response)).error;
      expect(error.code).toBe('invalid_input');
      expect(error.message).toMatch(message);
    }
    expect(h.ticksRequested).toBe(0);
  });

  it('answers 400 for a task that could never run: a NUL, an oversize body, too many labels', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ project: 'app', title: 'Fix\0it' }, /^a task title must not contain a NUL character/],
      [{ project: 'app', title: 'x', body: 'binary\0data' }, /^a task body must not contain a NUL character/],
      [{ project: 'app', title: 'x', body: 'x'.repeat(300 * 1024) }, /^a task body must be at most 256 KiB, this one is 300 KiB/],
      [{ project: 'app', title: 'x', labels: ['a\0'] }, /^a label must be/],
      [{ project: 'app', title: 'x', labels: Array.from({ length: 60 }, (_, i) => `l${i}`) }, /^a task may have at most 50 labels/],
    ];
    for (const [body, message] of cases) {
      const response = await h.call('/tasks', { body });
      expect(response.status, message.source).toBe(400);
      const error = (await json<ErrorBody>(response)).error;
      expect(error.code).toBe('invalid_input');
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain('\n');
    }
    expect(await json<Task[]>(await h.call('/tasks'))).toEqual([]);
    expect(h.ticksRequested).toBe(0);
  });

  it('answers 400 for malformed JSON, a body that is not an object, and bad parameters', async () => {
    const malformed = await h.call('/tasks', { rawBody: '{"title": ', headers: { 'Content-Type': 'application/json' } });
    expect(malformed.status).toBe(400);
    expect((await json<ErrorBody>(malformed)).error.message).toMatch(/^request body: malformed JSON/);

    const array = await h.call('/tasks', { body: ['title'] });
    expect((await json<ErrorBody>(array)).error.message).toBe('request body: expected a JSON object');

    const badId = await h.call('/tasks/abc');
    expect(badId.status).toBe(400);
    expect((await json<ErrorBody>(badId)).error.message).toMatch(/^id: expected a whole number/);
    // Task ids are plain positive decimals, as on the command line: no hex, exponent, sign or fraction.
    for (const id of ['0x1', '1e0', '+1', '1.0', '0', '%201']) expect((await h.call(`/tasks/${id}`)).status, id).toBe(400);
    expect((await h.call('/runs?task=0x1')).status).toBe(400);

    const badState = await h.call('/tasks?state=new,bogus');
    expect(badState.status).toBe(400);
    expect((await json<ErrorBody>(badState)).error.message).toMatch(/^state: unknown value "bogus"/);

    expect((await h.call('/tasks?limit=-1')).status).toBe(400);
  });

  it('maps the engine refusals: 404 for what does not exist, 409 for a move that is not allowed', async () => {
    const missing = await h.call('/tasks/9999');
    expect(missing.status).toBe(404);
    expect(await json<ErrorBody>(missing)).toEqual({ error: { code: 'not_found', message: 'task 9999 not found' } });
    expect((await h.call('/tasks', { body: { project: 'nope', title: 'x' } })).status).toBe(404);
    expect((await h.call('/tasks/9999/cancel', { method: 'POST' })).status).toBe(404);

    const task = await createTask({ title: 'Cancel me twice' });
    const first = await h.call(`/tasks/${task.id}/cancel`, { body: { reason: 'not needed' } });
    expect(first.status).toBe(200);
    expect(await json<Task>(first)).toMatchObject({ state: 'cancelled' });
    const second = await h.call(`/tasks/${task.id}/cancel`, { method: 'POST' });
    expect(second.status).toBe(409);
    expect(await json<ErrorBody>(second)).toEqual({ error: { code: 'conflict', message: `task ${task.id} is already cancelled` } });
  });

  it('retries a cancelled task and unblocks a waiting one with force, asking for a tick each time', async () => {
    const task = await createTask({ title: 'Again' });
    await h.call(`/tasks/${task.id}/cancel`, { method: 'POST' });
    const retried = await h.call(`/tasks/${task.id}/retry`, { method: 'POST' });
    expect(retried.status).toBe(200);
    expect(await json<Task>(retried)).toMatchObject({ state: 'new', attempts: 0 });

    const waiting = await createTask({ title: 'Waits', dependsOn: [task.id] });
    const refused = await h.call(`/tasks/${waiting.id}/unblock`, { method: 'POST' });
    expect(refused.status).toBe(409);
    expect((await h.call(`/tasks/${waiting.id}/unblock`, { body: { force: 'yes' } })).status).toBe(400);
    const forced = await h.call(`/tasks/${waiting.id}/unblock`, { body: { force: true } });
    expect(forced.status).toBe(200);
    expect(await json<Task>(forced)).toMatchObject({ state: 'new', dependsOn: [] });
    // two creations, cancel, retry, forced unblock; the refused calls ask for nothing
    expect(h.ticksRequested).toBe(5);
  });
});

describe('failures', () => {
  it('turns an unexpected error into a JSON 500 of one line, without a stack trace', async () => {
    const error = new Error('database is locked\n    at Statement.run (sqlite.js:1:1)');
    vi.spyOn(h.orch.store, 'listProjects').mockRejectedValueOnce(error);
    const response = await h.call('/projects');
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: { code: 'failure', message: 'database is locked' } });
  });

  it('refuses a body over 1 MiB with 413, closing the connection the unread body is still on', async () => {
    const response = await h.call('/tasks', { body: { project: 'app', title: 'big', body: 'x'.repeat(1024 * 1024) } });
    expect(response.status).toBe(413);
    expect(response.headers.get('connection')).toBe('close');
    expect((await json<ErrorBody>(response)).error).toMatchObject({ code: 'invalid_input', message: expect.stringMatching(/^request body: larger than/) });
  });
});

describe('projects', () => {
  it('lists projects and reads one project status', async () => {
    const projects = await json<Project[]>(await h.call('/projects'));
    expect(projects.map((p) => p.name)).toEqual(['app']);
    await createTask({ title: 'Count me' });
    const status = await json<ProjectStatus>(await h.call('/projects/app'));
    expect(status).toMatchObject({ project: { name: 'app', paused: false }, configured: true, tasks: { new: 1 }, claims: 0 });
    expect((await h.call('/projects/ghost')).status).toBe(404);
  });

  it('pauses with a reason and resumes; doing either twice is a conflict', async () => {
    const paused = await h.call('/projects/app/pause', { body: { reason: 'release freeze' } });
    expect(paused.status).toBe(200);
    expect(await json<Project>(paused)).toMatchObject({ paused: true, pausedReason: 'release freeze' });
    expect((await h.call('/projects/app/pause', { method: 'POST' })).status).toBe(409);

    const resumed = await h.call('/projects/app/resume', { method: 'POST' });
    expect(resumed.status).toBe(200);
    expect(await json<Project>(resumed)).toMatchObject({ paused: false, pausedReason: null });
    expect(h.ticksRequested).toBe(1);
    expect((await h.call('/projects/app/resume', { method: 'POST' })).status).toBe(409);
    expect((await h.call('/projects/app/pause', { body: { reason: 3 } })).status).toBe(400);
  });
});

describe('runs, claims, jobs and ticks', () => {
  it('lists runs and claims, reads a run, and lists jobs', async () => {
    const task = await createTask({ title: 'Run me' });
    const { store } = h.orch;
    const claim = (await store.claimTask({ taskId: task.id, owner: 'test:2', leaseMs: 60_000, now: Date.now() }))!;
    const run = await store.createRun({ taskId: task.id, project: 'app', attempt: 1, agent: 'claude', startedAt: Date.now() }, claim.token);

    expect(await json<Run[]>(await h.call(`/runs?task=${task.id}`))).toEqual([run]);
    expect(await json<Run[]>(await h.call('/runs?project=other'))).toEqual([]);
    expect(await json<Run>(await h.call(`/runs/${run.id}`))).toEqual(run);
    expect((await h.call('/runs/424242')).status).toBe(404);
    const held = { ...claim, runId: run.id };
    expect(await json<Claim[]>(await h.call('/claims'))).toEqual([held]);
    expect((await json<{ claim: Claim }>(await h.call(`/tasks/${task.id}`))).claim).toEqual(held);

    // Each host with its state, and the tasks its process (machine:pid) holds claims on.
    expect(await json<unknown[]>(await h.call('/hosts'))).toEqual([]);
    await store.registerHost({ name: 'idle', machine: 'test', pid: 1, version: '1.0.0', slots: 2, startedAt: Date.now() }, null);
    await store.registerHost({ name: 'holder', machine: 'test', pid: 2, version: '1.0.0', slots: 3, startedAt: Date.now() }, null);
    expect(await json<unknown[]>(await h.call('/hosts'))).toMatchObject([
      { name: 'holder', state: 'alive', version: '1.0.0', slots: 3, running: [task.id] },
      { name: 'idle', state: 'alive', slots: 2, running: [] },
    ]);

    await store.addJob({ name: 'nightly', project: 'app', schedule: '0 3 * * *', kind: 'task', spec: { title: 'Nightly' } }, Date.now());
    expect((await json<{ name: string }[]>(await h.call('/jobs'))).map((j) => j.name)).toEqual(['nightly']);
  });

  it('accepts a tick request with 202', async () => {
    const response = await h.call('/tick', { method: 'POST' });
    expect(response.status).toBe(202);
    expect(h.ticksRequested).toBe(1);
  });
});
