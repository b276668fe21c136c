import { Hono } from 'hono';
import { z } from 'zod';
import { ROLES, TASK_STATES } from '../../core/types.js';
import { lastRouting } from '../../engine/router.js';
import { taskDiff } from '../../engine/task-diff.js';
import { addTask, cancelTask, getTask, holdTask, resolveTask, retryTask, unblockTask } from '../../engine/tasks.js';
import type { ServerDeps } from '../deps.js';
import { expected, listLimit, optionalIds, nonEmptyString, optionalList, positiveId, readJsonBody, wholeNumber } from '../validation.js';

const NewTaskBody = z.strictObject({
  project: nonEmptyString,
  title: nonEmptyString,
  body: z.string(expected('a string')).optional(),
  labels: z.array(nonEmptyString, expected('an array of strings')).optional(),
  priority: z.number(expected('a whole number')).int({ error: 'expected a whole number' }).optional(),
  role: z.enum(ROLES, expected(`one of ${ROLES.join(', ')}`)).optional(),
  parentId: positiveId.nullable().optional(),
  dependsOn: z.array(positiveId, expected('an array of task ids')).optional(),
});
const CancelBody = z.strictObject({ reason: nonEmptyString.optional() });
const ResolveBody = z.strictObject({ reason: nonEmptyString.optional() });
const UnblockBody = z.strictObject({ force: z.boolean(expected('true or false')).optional() });
const NoBody = z.strictObject({});

const taskId = (value: string) => wholeNumber(value, 'id');

/** The backlog: list, read, add, the moves a person makes (cancel, retry, unblock, resolve), and a task's diff. */
export function taskRoutes({ orch, requestTick, now = orch.now }: ServerDeps): Hono {
  const app = new Hono();

  app.get('/tasks', async (c) => {
    const ids = optionalIds(c);
    const tasks = await orch.store.listTasks({
      project: c.req.query('project') || undefined,
      states: optionalList(c, 'state', TASK_STATES),
      ...(ids ? { ids } : {}),
      limit: listLimit(c),
    });
    return c.json(tasks);
  });

  app.get('/tasks/:id', async (c) => {
    const id = taskId(c.req.param('id'));
    const task = await getTask(orch.store, id);
    const [runs, claim, routing] = await Promise.all([orch.store.listRuns({ taskId: id }), orch.store.getClaim(id), lastRouting(orch.store, id)]);
    return c.json({ task, routing, runs, claim: claim ?? null });
  });

  app.post('/tasks', async (c) => {
    const input = await readJsonBody(c, NewTaskBody);
    const task = await addTask(orch.store, input, now());
    requestTick();
    c.header('Location', `/tasks/${task.id}`);
    return c.json(task, 201);
  });

  app.post('/tasks/:id/cancel', async (c) => {
    const id = taskId(c.req.param('id'));
    const { reason } = await readJsonBody(c, CancelBody);
    const task = await cancelTask(orch.store, id, now(), reason);
    requestTick(); // a freed slot or a settled wait may let other work start
    return c.json(task);
  });

  app.post('/tasks/:id/block', async (c) => {
    const id = taskId(c.req.param('id'));
    const { reason } = await readJsonBody(c, CancelBody);
    const task = await holdTask(orch.store, id, now(), reason ?? 'held by a person');
    requestTick(); // the scheduler stops its run, if one is going
    return c.json(task);
  });

  app.post('/tasks/:id/retry', async (c) => {
    const id = taskId(c.req.param('id'));
    await readJsonBody(c, NoBody);
    const task = await retryTask(orch.store, id, now());
    requestTick();
    return c.json(task);
  });

  app.post('/tasks/:id/unblock', async (c) => {
    const id = taskId(c.req.param('id'));
    const { force } = await readJsonBody(c, UnblockBody);
    const task = await unblockTask(orch.store, id, now(), { force });
    requestTick();
    return c.json(task);
  });

  app.post('/tasks/:id/resolve', async (c) => {
    const id = taskId(c.req.param('id'));
    const { reason } = await readJsonBody(c, ResolveBody);
    const task = await resolveTask(orch.store, id, now(), reason);
    requestTick(); // tasks that waited on it may start
    return c.json(task);
  });

  app.get('/tasks/:id/diff', async (c) => c.json(await taskDiff(orch, taskId(c.req.param('id')))));

  return app;
}
