// The planner's answer and what Orch accepts of it: the schema its JSON must meet, tolerant parsing
// of the fenced block it ends with, and the check that refuses a failed task proposed again
// unchanged. The prompt is plan-prompt.ts; plan.md is plan-markdown.ts.

import { z } from 'zod';
import { fencedBlocks, parseLenientJson } from './result-contract.js';
import { MAX_TITLE_CHARS as MAX_TITLE } from './task-limits.js';
import { ROLES, type Role, type Task } from './types.js';

/** More tasks than this in one answer is not a plan but a wish list. */
export const MAX_PLANNED_TASKS = 12;
const MAX_BODY = 8000;

export interface PlannedTask {
  title: string;
  /** What to change and why, ending with acceptance criteria. */
  body: string;
  role: Role;
  priority: number;
  /** Indexes (0-based) of earlier tasks in the same plan that must be done first. */
  dependsOn: number[];
  labels: string[];
}

export interface DeferredItem {
  title: string;
  reason: string;
}

export interface Plan {
  /** What the planner found in the repository, in Markdown. */
  findings: string;
  tasks: PlannedTask[];
  deferred: DeferredItem[];
  risks: string[];
}

const oneLine = (what: string, max: number) =>
  z
    .string()
    .trim()
    .min(1, `${what} is empty`)
    .max(max, `${what} is longer than ${max} characters`)
    .refine((text) => !/[\r\n]/.test(text), `${what} must be one line`)
    .refine((text) => !text.includes('\0'), `${what} must not contain a NUL character`);

const plannedTaskSchema = z.object({
  title: oneLine('the title', MAX_TITLE),
  body: z
    .string()
    .trim()
    .min(1, 'the body is empty: say what to change and end with acceptance criteria')
    .max(MAX_BODY, `the body is longer than ${MAX_BODY} characters`)
    .refine((body) => !body.includes('\0'), 'the body must not contain a NUL character')
    .refine((body) => /acceptance/i.test(body), 'the body has no acceptance criteria (a section "Acceptance criteria" listing what a reviewer checks)'),
  role: z.enum(ROLES, { error: `the role must be one of ${ROLES.join(', ')}` }).default('implement'),
  priority: z.int('the priority must be a whole number').min(-100).max(100).default(0),
  depends_on: z.array(z.int('depends_on holds task indexes (whole numbers)').min(0)).default([]),
  labels: z.array(oneLine('a label', 100)).default([]),
});

const deferredSchema = z.union([
  z.string().transform((title) => ({ title, reason: '' })),
  z.object({ title: z.string(), reason: z.string().default('') }),
]);

const planSchema = z
  .object({
    findings: z.string().default(''),
    tasks: z.array(plannedTaskSchema).max(MAX_PLANNED_TASKS, `at most ${MAX_PLANNED_TASKS} tasks per plan`),
    deferred: z.array(deferredSchema).default([]),
    risks: z.array(z.string()).default([]),
  })
  .superRefine((plan, ctx) => {
    const titles = new Map<string, number>();
    plan.tasks.forEach((task, index) => {
      for (const dep of task.depends_on) {
        if (dep >= index) ctx.addIssue({ code: 'custom', path: ['tasks', index, 'depends_on'], message: `task ${index} may only depend on tasks listed before it (indexes 0 to ${index - 1}), not ${dep}` });
      }
      const key = normaliseText(task.title);
      const earlier = titles.get(key);
      if (earlier !== undefined) ctx.addIssue({ code: 'custom', path: ['tasks', index, 'title'], message: `the same title as task ${earlier}` });
      titles.set(key, index);
    });
  });

export type PlanParse = { ok: true; plan: Plan } | { ok: false; error: string };

/**
 * The plan in the planner's final message: the last fenced JSON block holding an object with a
 * `tasks` list (comments and trailing commas tolerated), validated. The error, when there is one, is
 * a line the planner can act on: it goes back to it for one more try.
 */
export function parsePlanAnswer(text: string | null): PlanParse {
  if (text === null || text.trim() === '') return { ok: false, error: 'the answer is empty: end it with a fenced ```json block holding the plan' };
  const candidates = fencedBlocks(text)
    .reverse()
    .map(parseLenientJson)
    .filter((value): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value) && 'tasks' in value);
  const block = candidates[0];
  if (block === undefined) return { ok: false, error: 'no fenced ```json block with a "tasks" list at the end of the answer' };
  const parsed = planSchema.safeParse(block);
  if (!parsed.success) return { ok: false, error: parsed.error.issues.slice(0, 3).map(describeIssue).join('; ') };
  const { findings, tasks, deferred, risks } = parsed.data;
  return {
    ok: true,
    plan: {
      findings: findings.trim(),
      tasks: tasks.map((t) => ({ title: t.title, body: t.body, role: t.role, priority: t.priority, dependsOn: [...new Set(t.depends_on)], labels: [...new Set(t.labels)] })),
      deferred: deferred.filter((d) => d.title.trim() !== ''),
      risks: risks.map((r) => r.trim()).filter(Boolean),
    },
  };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.length > 0 ? issue.path.join('.') : 'the plan';
  return `${where}: ${issue.message}`;
}

// ---------------------------------------------------------------- the repeat check

/** A task a proposal is compared with. */
export interface PriorTask {
  id: number;
  title: string;
  body: string;
  /**
   * `failed`: it failed or needs a person; it may come back only split or after a prerequisite.
   * `splitting`: the task being split; a child may not be the whole of it again, alone.
   * `open`: already in the backlog; proposing it again would run it twice.
   */
  kind: 'failed' | 'splitting' | 'open';
}

export interface Refusal {
  /** Index of the proposal in its plan. */
  index: number;
  title: string;
  reason: string;
  /** The task it repeats, when it repeats one. */
  repeats: number | null;
}

export interface RepeatCheck {
  /** Indexes of the proposals that may become tasks, in plan order. */
  accepted: number[];
  refused: Refusal[];
  /**
   * Proposals refused as already open, by index, with the open task that stands in for them: what
   * depends on such a proposal waits on that task instead.
   */
  standIns: Map<number, number>;
}

/** How alike two titles must be (0..1) for a proposal to count as the same task. */
export const TITLE_SIMILARITY = 0.75;
/** How alike two bodies must be for the proposal to count as unchanged. */
export const BODY_SIMILARITY = 0.6;

/**
 * Refuses proposals that repeat what exists or is known to fail: one alike to an open task (which then
 * stands in for it); one that depends on a refused proposal with no stand-in; and one alike in title and
 * body to a failed task (or to the task being split) unless it now waits on a prerequisite.
 */
export function checkRepeats(tasks: readonly PlannedTask[], prior: readonly PriorTask[]): RepeatCheck {
  const refused: Refusal[] = [];
  const standIns = new Map<number, number>();
  const refuse = (index: number, reason: string, repeats: number | null) => {
    refused.push({ index, title: tasks[index]!.title, reason, repeats });
  };
  tasks.forEach((task, index) => {
    const open = prior.find((p) => p.kind === 'open' && isSameTask(task, p));
    if (open) {
      standIns.set(index, open.id);
      return refuse(index, `already open as #${open.id}`, open.id);
    }
    const lost = task.dependsOn.find((dep) => refused.some((r) => r.index === dep) && !standIns.has(dep));
    if (lost !== undefined) return refuse(index, `depends on task ${lost} of the plan, which was refused`, null);
    if (task.dependsOn.length > 0) return;
    const repeat = prior.find((p) => p.kind !== 'open' && isSameTask(task, p));
    if (!repeat) return;
    const what = repeat.kind === 'failed' ? `failed task #${repeat.id}` : `task #${repeat.id} (the one being split)`;
    refuse(index, `repeats ${what} unchanged: split it into smaller tasks or put a prerequisite task first`, repeat.id);
  });
  const refusedIndexes = new Set(refused.map((r) => r.index));
  return { accepted: tasks.map((_, i) => i).filter((i) => !refusedIndexes.has(i)), refused, standIns };
}

/** Whether a proposal is, in substance, the same task: alike titles, and bodies alike or both bare. */
export function isSameTask(proposal: Pick<PlannedTask, 'title' | 'body'>, prior: Pick<PriorTask, 'title' | 'body'>): boolean {
  if (similarity(proposal.title, prior.title) < TITLE_SIMILARITY) return false;
  // A task written with its title only carries no body to compare: the title decides.
  if (words(prior.body).size < 3) return true;
  return similarity(proposal.body, prior.body) >= BODY_SIMILARITY;
}

/** Jaccard similarity of the normalised word sets of two texts (1 when both are empty). */
export function similarity(a: string, b: string): number {
  const x = words(a);
  const y = words(b);
  if (x.size === 0 && y.size === 0) return 1;
  let shared = 0;
  for (const word of x) if (y.has(word)) shared++;
  return shared / (x.size + y.size - shared);
}

const STOP_WORDS = new Set(['a', 'an', 'and', 'the', 'of', 'to', 'in', 'on', 'for', 'with', 'by', 'or', 'is', 'it', 'be', 'as', 'at', 'that', 'this']);

/** Lower case, accents and punctuation gone, whitespace collapsed: how texts are compared. */
export function normaliseText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

function words(text: string): Set<string> {
  return new Set(
    normaliseText(text)
      .split(' ')
      .filter((word) => word !== '' && !STOP_WORDS.has(word)),
  );
}

/**
 * Where a task stands for the planner: `failed` (it needs a person, its agent gave up, or it was
 * cancelled after trying), `open` (in the backlog or under way), `done`, or `dropped` (cancelled
 * before any attempt).
 */
export function standingOf(task: Pick<Task, 'state' | 'blockKind' | 'attempts'>): 'failed' | 'open' | 'done' | 'dropped' {
  if (task.state === 'done') return 'done';
  if (task.state === 'needs_review' || (task.state === 'blocked' && task.blockKind === 'agent')) return 'failed';
  if (task.state === 'cancelled') return task.attempts > 0 ? 'failed' : 'dropped';
  return 'open';
}

// ---------------------------------------------------------------- splitting one task

/** The label that asks the planner to split a task into sub-tasks (as does the role `plan`). */
export const SPLIT_LABEL = 'plan';

/**
 * Whether running this task means splitting it rather than working on it. A task that has sub-tasks
 * was split already and is reviewed, never split again, whatever its labels say: a tracker mirroring
 * the issue puts the split label back after the split took it off.
 */
export function wantsSplit(task: Pick<Task, 'role' | 'labels'>, subTasks = 0): boolean {
  if (subTasks > 0) return false;
  return task.role === 'plan' || task.labels.includes(SPLIT_LABEL);
}

/**
 * What a split task becomes: it waits for its sub-tasks, then runs once more as a review of the whole
 * against its own acceptance criteria. Without the split label and role it is never split again.
 */
export function afterSplit(task: Pick<Task, 'labels'>): { role: Role; labels: string[] } {
  return { role: 'review', labels: task.labels.filter((label) => label !== SPLIT_LABEL) };
}
