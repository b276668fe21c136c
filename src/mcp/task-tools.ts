// The backlog's tools: list, show, add, retry and cancel, each the engine's use case that the
// `orch task` commands call, with the same checks and the same one-line refusals.

import { z } from 'zod';
import { ROLES, TASK_STATES, type Task } from '../core/types.js';
import { projectForDirectory } from '../engine/projects.js';
import { lastRouting } from '../engine/router.js';
import { addTask, cancelTask, findTasks, getTask, retryTask } from '../engine/tasks.js';
import { PRIORITY_NAMES } from '../cli/args.js';
import { defineTool, type OrchTool } from './tool-kit.js';

const DEFAULT_LIST_LIMIT = 50;
const MAX_LIST_LIMIT = 500;
const DEFAULT_EVENTS = 20;
const MAX_EVENTS = 200;

const taskId = z.number({ error: 'expected a task id (a whole number such as 12)' }).int({ error: 'expected a whole number' }).positive({ error: 'expected a positive task id' }).describe('task id, such as 12');
const state = z.enum(TASK_STATES, { error: `expected one of ${TASK_STATES.join(', ')}` });
const priorityNames = Object.keys(PRIORITY_NAMES) as [string, ...string[]];

const stateText = (t: Task) => `${t.state}${t.blockedReason ? `: ${t.blockedReason}` : ''}`;

const listTasks = defineTool({
  name: 'list_tasks',
  title: 'List tasks',
  description: 'Tasks of the backlog, newest last: by default the open ones (neither done nor cancelled) of every project.',
  effect: 'reads',
  input: {
    project: z.string().optional().describe('only this project'),
    state: z.union([state, z.array(state)]).optional().describe('only tasks in this state or these states (done and cancelled included when named)'),
    label: z.string().optional().describe('only tasks with this label'),
    all: z.boolean().optional().describe('include done and cancelled tasks'),
    limit: z.number().int().min(1).max(MAX_LIST_LIMIT).optional().describe(`at most this many, the newest (default ${DEFAULT_LIST_LIMIT})`),
  },
  async run(ctx, args) {
    const states = args.state === undefined ? undefined : Array.isArray(args.state) ? args.state : [args.state];
    const { tasks, hiddenFinished } = await ctx.withOrch((orch) => findTasks(orch.store, { project: args.project, states, label: args.label, all: args.all }));
    const limit = args.limit ?? DEFAULT_LIST_LIMIT;
    const shown = tasks.slice(-limit);
    const parts = [tasks.length === 0 ? 'No tasks.' : shown.length < tasks.length ? `The newest ${shown.length} of ${tasks.length} tasks.` : `${tasks.length} task(s).`];
    if (hiddenFinished > 0) parts.push(`${hiddenFinished} finished task(s) (done or cancelled) not shown: pass all: true to list them too.`);
    return { summary: parts.join(' '), data: { tasks: shown, total: tasks.length, hiddenFinished } };
  },
});

const showTask = defineTool({
  name: 'show_task',
  title: 'Show a task',
  description: 'One task: its state, routing decision, claim, every attempt (run) and its latest events.',
  effect: 'reads',
  input: {
    id: taskId,
    events: z.number().int().min(0).max(MAX_EVENTS).optional().describe(`how many of its latest events (default ${DEFAULT_EVENTS})`),
  },
  async run(ctx, args) {
    return ctx.withOrch(async (orch) => {
      const task = await getTask(orch.store, args.id);
      const [routing, runs, claim, newestFirst] = await Promise.all([
        lastRouting(orch.store, args.id),
        orch.store.listRuns({ taskId: args.id }),
        orch.store.getClaim(args.id),
        orch.store.listEvents({ taskId: args.id, limit: args.events ?? DEFAULT_EVENTS, newestFirst: true }),
      ]);
      const events = newestFirst.reverse();
      return {
        summary: `#${task.id} ${task.title} (${stateText(task)}), project ${task.project}, ${runs.length} attempt(s), $${task.costUsd.toFixed(2)}`,
        data: { task, routing, runs, claim: claim ?? null, events },
      };
    });
  },
});

const addTaskTool = defineTool({
  name: 'add_task',
  title: 'Add a task',
  description: "Adds a task to a project's local backlog; the scheduler routes it to an agent. Like `orch task add`.",
  effect: 'changes',
  input: {
    project: z.string().optional().describe('project name (default: the one holding the directory the server runs in, or the only one)'),
    title: z.string({ error: 'expected the title as a string' }).describe('one-line title'),
    body: z.string().optional().describe('details, context and acceptance criteria'),
    labels: z.array(z.string()).optional().describe('labels (they can route the task to an agent)'),
    priority: z.union([z.number().int(), z.enum(priorityNames)]).optional().describe(`whole number or ${priorityNames.join('|')}; higher runs first`),
    role: z.enum(ROLES, { error: `expected one of ${ROLES.join(', ')}` }).optional().describe('what the agent is asked to do (default implement)'),
    parent: taskId.optional().describe('make this a sub-task of that task'),
    depends_on: z.array(taskId).optional().describe('task ids that must be done first'),
  },
  async run(ctx, args) {
    const priority = typeof args.priority === 'string' ? PRIORITY_NAMES[args.priority] : args.priority;
    const created = await ctx.withOrch(async (orch) => {
      const project = args.project ?? (await projectForDirectory(orch, ctx.cwd, 'name the project'));
      return addTask(orch.store, { project, title: args.title, body: args.body, labels: args.labels, priority, role: args.role, parentId: args.parent ?? null, dependsOn: args.depends_on }, orch.now());
    });
    await ctx.nudge();
    return { summary: `Added #${created.id} to ${created.project} (${stateText(created)}): ${created.title}`, data: created };
  },
});

const retryTaskTool = defineTool({
  name: 'retry_task',
  title: 'Retry a task',
  description: 'Queues again a task that needs review, is blocked or was cancelled (its attempts reset), or ends its backoff now.',
  effect: 'changes',
  input: { id: taskId },
  async run(ctx, args) {
    const task = await ctx.withOrch((orch) => retryTask(orch.store, args.id, orch.now()));
    await ctx.nudge();
    return { summary: `Queued #${task.id} again (${stateText(task)}): ${task.title}`, data: task };
  },
});

const cancelTaskTool = defineTool({
  name: 'cancel_task',
  title: 'Cancel a task',
  description: 'Cancels a task; the daemon stops its agent if one runs and removes its worktree. `retry_task` queues it again.',
  effect: 'stops',
  input: {
    id: taskId,
    reason: z.string().optional().describe('why, for the audit trail'),
  },
  async run(ctx, args) {
    const task = await ctx.withOrch((orch) => cancelTask(orch.store, args.id, orch.now(), args.reason?.trim() || 'cancelled over MCP'));
    await ctx.nudge();
    return { summary: `Cancelled #${task.id}: ${task.title}`, data: task };
  },
});

export const TASK_TOOLS: readonly OrchTool[] = [listTasks, showTask, addTaskTool, retryTaskTool, cancelTaskTool];
