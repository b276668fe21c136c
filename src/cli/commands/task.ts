import { closeSync, openSync, readSync } from 'node:fs';
import type { Command } from 'commander';
import { OrchError } from '../../core/errors.js';
import { MAX_BODY_BYTES, bodyTooLarge } from '../../core/task-limits.js';
import type { RoutingDecision } from '../../core/routing.js';
import { TASK_STATES, type Role, type Run, type Task, type TaskPullRequest, type TaskState } from '../../core/types.js';
import { projectForDirectory } from '../../engine/projects.js';
import { addDependencies, addTask, cancelTask, getTask, holdTask, retryTask, taskTree, unblockTask, type TaskTreeNode } from '../../engine/tasks.js';
import { collect, collectTaskIds, parseLimit, parsePriority, parseRole, parseTaskId } from '../args.js';
import { relativeTime, table } from '../output.js';
import { nudgeDaemon } from '../daemon-client.js';
import type { Store } from '../../store/store.js';
import { command } from '../run.js';

const when = (task: Task, now: number) => (task.nextAttemptAt !== null && task.nextAttemptAt > now ? ` (retry ${relativeTime(task.nextAttemptAt, now)})` : '');

export function taskRows(tasks: Task[], now: number): string {
  if (tasks.length === 0) return 'No tasks.';
  return table(
    tasks.map((t) => [`#${t.id}`, t.state + when(t, now), String(t.priority), t.project, t.role, t.title + (t.labels.length ? `  [${t.labels.join(', ')}]` : '')]),
    ['ID', 'STATE', 'PRI', 'PROJECT', 'ROLE', 'TITLE'],
  );
}

/** `#12 <url> · CI failing · 1 CI fix, 0 review rounds`: where the task's change waits and how it fares. */
function pullRequestText(pr: TaskPullRequest): string {
  const parts = [`#${pr.number} ${pr.url}`, `branch ${pr.branch}`];
  if (pr.checks) parts.push(`CI ${pr.checks}`);
  parts.push(`${pr.ciRounds} CI fix round${pr.ciRounds === 1 ? '' : 's'}, ${pr.reviewRounds} review round${pr.reviewRounds === 1 ? '' : 's'}`);
  return parts.join(' · ');
}

const FINISHED_STATES: readonly TaskState[] = ['done', 'cancelled'];
const OPEN_STATES = TASK_STATES.filter((state) => !FINISHED_STATES.includes(state));
/** Rows `orch task list` shows unless told otherwise: a screenful, whatever the store holds. */
export const TASK_LIST_LIMIT = 50;

/** How many tasks of each state match, from one grouped count: what a page leaves out is told, not read. */
async function matchingCounts(store: Store, project: string | undefined, label: string | undefined): Promise<Partial<Record<TaskState, number>>> {
  const counts: Partial<Record<TaskState, number>> = {};
  for (const row of await store.countTasksByProjectState(label === undefined ? {} : { label })) {
    if (project === undefined || row.project === project) counts[row.state] = (counts[row.state] ?? 0) + row.count;
  }
  return counts;
}

const sum = (counts: Partial<Record<TaskState, number>>, states: readonly TaskState[]) => states.reduce((total, state) => total + (counts[state] ?? 0), 0);

/** The notes under the list: the rows a limit left out, and the finished tasks left out by default. */
function listNotes(shown: number, more: number, hidden: number, limit: number | undefined): string[] {
  const notes: string[] = [];
  if (more > 0) notes.push(`${more} more not shown (${shown} listed, the lowest ids first): \`--limit ${Math.max(limit ?? 0, TASK_LIST_LIMIT) * 4}\` shows more, \`--all\` every task.`);
  if (hidden > 0) notes.push(`${hidden} finished task(s) (done or cancelled) not shown: \`orch task list --all\` lists them too.`);
  return notes;
}

function withNotes(rows: string, shown: number, notes: string[]): string {
  if (notes.length === 0) return rows;
  return shown === 0 ? `No open tasks. ${notes.join(' ')}` : `${rows}\n\n${notes.join('\n')}`;
}

function taskDetail(task: Task, now: number): string {
  const lines = [
    `#${task.id} ${task.title}`,
    `  state      ${task.state}${when(task, now)}${task.blockedReason ? ` — ${task.blockedReason}` : ''}`,
    `  project    ${task.project}`,
    `  role       ${task.role}    priority ${task.priority}`,
    `  agent      ${task.agent ?? '(not routed yet)'}${task.model ? ` · ${task.model}` : ''}${task.complexity ? ` · ${task.complexity}` : ''}`,
    `  attempts   ${task.attempts}    cost $${task.costUsd.toFixed(2)}`,
  ];
  if (task.labels.length) lines.push(`  labels     ${task.labels.join(', ')}`);
  if (task.parentId !== null) lines.push(`  parent     #${task.parentId}`);
  if (task.dependsOn.length) lines.push(`  depends on ${task.dependsOn.map((id) => `#${id}`).join(', ')}`);
  if (task.externalRef) lines.push(`  tracker    ${task.externalRef}`);
  if (task.pullRequest) lines.push(`  pull req   ${pullRequestText(task.pullRequest)}`);
  lines.push(`  created    ${new Date(task.createdAt).toISOString()}`);
  if (task.body.trim()) lines.push('', ...task.body.trimEnd().split('\n').map((l) => `  ${l}`));
  return lines.join('\n');
}

function routingText(routing: RoutingDecision | null): string {
  if (!routing) return '';
  const lines = [`  routed by  ${routing.by}: ${routing.reason}`];
  const profile = routing.profile;
  if (profile) {
    if (profile.role) lines.push(`  profile    ${profile.role}`);
    if (profile.skills.length) lines.push(`    skills       ${profile.skills.join(', ')}`);
    if (profile.tools.length) lines.push(`    tools        ${profile.tools.join(', ')}`);
    if (profile.constraints.length) lines.push(`    constraints  ${profile.constraints.join('; ')}`);
  }
  return `\n${lines.join('\n')}`;
}

const decisionLine = (d: RoutingDecision) => `${d.agent}${d.model ? ` · ${d.model}` : ''}${d.complexity ? ` · ${d.complexity}` : ''} (by ${d.by}): ${d.reason}`;

const treeLabel = (t: Task) => `#${t.id} [${t.state}] ${t.title}  (${[t.role, ...(t.dependsOn.length ? [`after ${t.dependsOn.map((id) => `#${id}`).join(', ')}`] : [])].join(', ')})`;

function treeText(nodes: TaskTreeNode[], prefix = '', top = true): string[] {
  return nodes.flatMap((node, i) => {
    const last = i === nodes.length - 1;
    const branch = top ? '' : last ? '└─ ' : '├─ ';
    const childPrefix = top ? '' : prefix + (last ? '   ' : '│  ');
    return [`${prefix}${branch}${treeLabel(node.task)}`, ...treeText(node.children, childPrefix, false)];
  });
}

function attemptsText(runs: Run[]): string {
  if (runs.length === 0) return '';
  const rows = runs.map((r) => {
    const seconds = r.endedAt === null ? 'running' : `${Math.round((r.endedAt - r.startedAt) / 1000)}s`;
    const reason = (r.result as { failure?: string; reason?: string } | null)?.failure ?? (r.result as { reason?: string } | null)?.reason ?? '';
    return [`  ${r.attempt}.`, `run ${r.id}`, r.agent, r.outcome ?? 'running', r.endReason ?? '', seconds, `$${r.costUsd.toFixed(2)}`, reason.split('\n')[0]!.slice(0, 100)];
  });
  return `\n\n  Attempts:\n${table(rows)}`;
}

/**
 * The body from --body or --body-file. The file is read only up to one byte past the most a body may
 * be, so an endless file (a device, a pipe that never closes its end) is refused rather than slurped.
 */
function readBody(options: { body?: string; bodyFile?: string }): string | undefined {
  if (options.body !== undefined && options.bodyFile !== undefined) throw new OrchError('invalid_input', 'give either --body or --body-file, not both');
  if (options.bodyFile === undefined) return options.body;
  const source = options.bodyFile === '-' ? 'stdin' : options.bodyFile;
  let bytes: Buffer;
  try {
    bytes = readAtMost(options.bodyFile === '-' ? 0 : options.bodyFile, MAX_BODY_BYTES + 1);
  } catch (error) {
    throw new OrchError('invalid_input', `cannot read --body-file ${options.bodyFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (bytes.length > MAX_BODY_BYTES) throw new OrchError('invalid_input', `--body-file ${source}: ${bodyTooLarge(`larger than that`)}`);
  return bytes.toString('utf8');
}

function readAtMost(file: string | number, limit: number): Buffer {
  const fd = typeof file === 'number' ? file : openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(limit);
    let filled = 0;
    while (filled < limit) {
      const read = readSync(fd, buffer, filled, limit - filled, null);
      if (read === 0) break;
      filled += read;
    }
    return buffer.subarray(0, filled);
  } finally {
    if (typeof file !== 'number') closeSync(fd);
  }
}

function parseStates(value: string | undefined): TaskState[] | undefined {
  if (value === undefined) return undefined;
  const states = value.split(',').map((s) => s.trim());
  for (const s of states) {
    if (!(TASK_STATES as readonly string[]).includes(s)) throw new OrchError('invalid_input', `unknown state "${s}": use ${TASK_STATES.join(', ')}`);
  }
  return states as TaskState[];
}

export function registerTaskCommands(program: Command): Command {
  const task = program.command('task').description('add, inspect and steer tasks');

  task
    .command('add')
    .description('add a task to a project\'s local backlog')
    .argument('<title...>', 'one-line title (quotes optional)')
    .option('-p, --project <name>', 'project (default: the one holding the current directory, or the only one)')
    .option('-b, --body <text>', 'details, context and acceptance criteria')
    .option('--body-file <path>', 'read the body from a file (- for stdin)')
    .option('-l, --label <label>', 'label (repeatable, or comma-separated)', collect)
    .option('--priority <n>', 'whole number or low|normal|high|urgent; higher runs first', parsePriority)
    .option('--role <role>', 'implement|test|review|plan|fix', parseRole)
    .option('--parent <id>', 'make this a sub-task of another task', parseTaskId)
    .option('--depends-on <ids>', 'task ids that must be done first (repeatable, or comma-separated)', collectTaskIds)
    .option('--json', 'print JSON')
    .action(
      command(async (io, title: string[], options: { project?: string; body?: string; bodyFile?: string; label?: string[]; priority?: number; role?: Role; parent?: number; dependsOn?: number[] }) => {
        const body = readBody(options);
        const orch = await io.orch();
        const project = options.project ?? (await projectForDirectory(orch, process.cwd()));
        const created = await addTask(orch.store, { project, title: title.join(' '), body, labels: options.label, priority: options.priority, role: options.role, parentId: options.parent ?? null, dependsOn: options.dependsOn }, orch.now());
        await nudgeDaemon(io.home);
        io.out.emit(created, () => `Added #${created.id} to ${created.project} (${created.state}${created.blockedReason ? `: ${created.blockedReason}` : ''}): ${created.title}`);
      }),
    );

  task
    .command('list')
    .description('list tasks')
    .option('-p, --project <name>', 'only this project')
    .option('-s, --state <states>', 'only these states (comma-separated)')
    .option('-l, --label <label>', 'only tasks with this label')
    .option('--all', 'every task: done and cancelled ones too, and no limit')
    .option('-n, --limit <n>', `at most this many tasks (default ${TASK_LIST_LIMIT}, lowest ids first)`, parseLimit)
    .option('--json', 'print JSON: the listed tasks as an array (a note on stderr says how many more there are)')
    .action(
      command(async (io, options: { project?: string; state?: string; label?: string; all?: boolean; limit?: number }) => {
        const orch = await io.orch();
        if (options.project && !(await orch.store.getProject(options.project))) throw new OrchError('not_found', `project "${options.project}" not found`);
        const states = parseStates(options.state) ?? (options.all ? [...TASK_STATES] : OPEN_STATES);
        const limit = options.limit ?? (options.all ? undefined : TASK_LIST_LIMIT);
        const [tasks, counts] = await Promise.all([
          orch.store.listTasks({ project: options.project, states, label: options.label, limit }),
          matchingCounts(orch.store, options.project, options.label),
        ]);
        const more = Math.max(0, sum(counts, states) - tasks.length);
        // Finished tasks are left out by default; say so, or a list emptied by a good run reads as "nothing happened".
        const hidden = options.state || options.all ? 0 : sum(counts, FINISHED_STATES);
        const notes = listNotes(tasks.length, more, hidden, limit);
        if (io.out.json && more > 0) process.stderr.write(`orch: ${notes[0]}\n`);
        io.out.emit(tasks, () => withNotes(taskRows(tasks, orch.now()), tasks.length, notes));
      }),
    );

  task
    .command('get')
    .alias('show')
    .description('show one task: its state, routing decision and attempts')
    .argument('<id>', 'task id', parseTaskId)
    .option('--json', 'print JSON')
    .action(
      command(async (io, id: number) => {
        const orch = await io.orch();
        const found = await getTask(orch.store, id);
        const runs = await orch.store.listRuns({ taskId: id });
        const claim = (await orch.store.getClaim(id)) ?? null;
        const { lastRouting } = await import('../../engine/router.js');
        const routing = await lastRouting(orch.store, id);
        io.out.emit({ ...found, routing, runs, claim }, () =>
          [taskDetail(found, orch.now()), routingText(routing), attemptsText(runs), claim ? `\n  claimed by ${claim.owner} (token ${claim.token})` : ''].join('').trimEnd(),
        );
      }),
    );

  task
    .command('route')
    .description('route a task waiting to run again: labels, the router, else the round robin')
    .argument('<id>', 'task id', parseTaskId)
    .option('--json', 'print JSON')
    .action(
      command(async (io, id: number) => {
        const orch = await io.orch();
        const { routeTask } = await import('../../engine/router.js');
        const routed = (await routeTask(orch, id, { again: true }))!;
        await nudgeDaemon(io.home);
        io.out.emit(routed, () => `Routed #${routed.task.id} to ${decisionLine(routed.decision)}`);
      }),
    );

  const move = (name: string, description: string) =>
    task.command(name).description(description).argument('<id>', 'task id', parseTaskId).option('--json', 'print JSON');

  move('cancel', 'cancel a task (a running agent is stopped by the daemon)')
    .option('--reason <text>', 'why, for the audit trail')
    .action(
      command(async (io, id: number, options: { reason?: string }) => {
        const orch = await io.orch();
        const t = await cancelTask(orch.store, id, orch.now(), options.reason ?? 'cancelled by a person');
        await nudgeDaemon(io.home);
        io.out.emit(t, () => `Cancelled #${t.id}: ${t.title}`);
      }),
    );

  move('block', 'put a task on hold: a running agent is stopped and its worktree kept; `orch task unblock` goes on from there')
    .option('--reason <text>', 'why, for the audit trail')
    .action(
      command(async (io, id: number, options: { reason?: string }) => {
        const orch = await io.orch();
        const t = await holdTask(orch.store, id, orch.now(), options.reason ?? 'held by a person');
        await nudgeDaemon(io.home);
        io.out.emit(t, () => `On hold #${t.id}: ${t.title}`);
      }),
    );

  move('retry', 'queue a task that needs review, is blocked or was cancelled again; or end its backoff now')
    .action(
      command(async (io, id: number) => {
        const orch = await io.orch();
        const t = await retryTask(orch.store, id, orch.now());
        await nudgeDaemon(io.home);
        io.out.emit(t, () => `Queued #${t.id} again (${t.state}${t.blockedReason ? `: ${t.blockedReason}` : ''}): ${t.title}`);
      }),
    );

  move('publish', "file a local task as an issue in its project's tracker (GitHub); the task follows it from then on")
    .action(
      command(async (io, id: number) => {
        const orch = await io.orch();
        const { publishTask } = await import('../../engine/publish.js');
        const { task: t, url } = await publishTask(orch, id);
        io.out.emit({ ...t, url }, () => `Published #${t.id} as ${t.externalRef}: ${url}`);
      }),
    );

  move('unblock', 'lift a block set by an agent or a person')
    .option('--force', 'for a task waiting on dependencies: drop the ones not done')
    .action(
      command(async (io, id: number, options: { force?: boolean }) => {
        const orch = await io.orch();
        const t = await unblockTask(orch.store, id, orch.now(), options);
        await nudgeDaemon(io.home);
        io.out.emit(t, () => `Unblocked #${t.id} (${t.state}): ${t.title}`);
      }),
    );

  task
    .command('depend')
    .description('make a task wait for other tasks')
    .argument('<id>', 'task id', parseTaskId)
    .requiredOption('--on <ids>', 'task ids it must wait for (comma-separated)', collectTaskIds)
    .option('--json', 'print JSON')
    .action(
      command(async (io, id: number, options: { on: number[] }) => {
        const orch = await io.orch();
        const t = await addDependencies(orch.store, id, options.on, orch.now());
        io.out.emit(t, () => `#${t.id} now depends on ${t.dependsOn.map((d) => `#${d}`).join(', ')} (${t.state})`);
      }),
    );

  task
    .command('tree')
    .description('show tasks with their sub-tasks and dependencies')
    .argument('[id]', 'root task id (default: every top-level task)', parseTaskId)
    .option('-p, --project <name>', 'only this project')
    .option('--json', 'print JSON')
    .action(
      command(async (io, id: number | undefined, options: { project?: string }) => {
        const orch = await io.orch();
        const nodes = await taskTree(orch.store, { id, project: options.project });
        io.out.emit(nodes, () => (nodes.length ? treeText(nodes).join('\n') : 'No tasks.'));
      }),
    );
  return task;
}
