// What the planner is told: the repository as Orch sees it (a bounded file tree, key files), the
// backlog (open tasks), what happened lately (outcomes, failures and the memory of their attempts),
// and the contract its answer must meet. Also the two follow-ups Orch may send it: a correction when
// its JSON was unusable, a revision when proposals were refused as repeats.

import { clip } from './memory.js';
import { MAX_PLANNED_TASKS, type Refusal } from './plan.js';
import type { AgentPrompt } from './prompt.js';
import type { Role, TaskState } from './types.js';

export interface TaskBrief {
  id: number;
  title: string;
  state: TaskState;
  role: Role;
  /** Why it waits or failed, when it does. */
  note: string | null;
}

/** A task that ended lately, with a short memory of its attempts when it failed. */
export interface OutcomeBrief extends TaskBrief {
  /** Lines from core/memory.ts rememberAttempts. */
  memory: string[];
}

/** The task to split, when the planner is asked to split one rather than plan the backlog. */
export interface SplitTarget {
  id: number;
  title: string;
  body: string;
  labels: string[];
  memory: string[];
}

export interface PlannerInput {
  project: string;
  defaultBranch: string;
  /** Every tracked file (`git ls-files`), as given; bounded here. */
  files: readonly string[];
  keyFiles: readonly { path: string; text: string }[];
  openTasks: readonly TaskBrief[];
  outcomes: readonly OutcomeBrief[];
  split: SplitTarget | null;
}

export const PLAN_INPUT_LIMITS = {
  treeEntries: 400,
  treeChars: 12_000,
  keyFileChars: 4000,
  keyFilesChars: 16_000,
  openTasks: 60,
  outcomes: 25,
  bodyChars: 4000,
};

/** Files worth showing whole (their start) when present: how the project describes and builds itself. */
const KEY_FILES = [
  'README.md',
  'README',
  'README.rst',
  'README.txt',
  'CLAUDE.md',
  'AGENTS.md',
  'CONTRIBUTING.md',
  'docs/ARCHITECTURE.md',
  'package.json',
  'pyproject.toml',
  'Cargo.toml',
  'go.mod',
  'Makefile',
];

/** The key files among the tracked files, in the order above. */
export function keyFilesOf(files: readonly string[]): string[] {
  const present = new Set(files);
  return KEY_FILES.filter((path) => present.has(path));
}

/**
 * The tracked files as a list a model can take in: all of them when few, else folded into
 * `dir/ (N files)` entries at the deepest level that stays within `maxEntries`; at most `maxChars`.
 */
export function fileTree(files: readonly string[], limits: { maxEntries: number; maxChars: number } = { maxEntries: PLAN_INPUT_LIMITS.treeEntries, maxChars: PLAN_INPUT_LIMITS.treeChars }): string {
  const sorted = [...files].sort();
  let entries = sorted;
  for (let depth = 4; entries.length > limits.maxEntries && depth >= 1; depth--) entries = foldAt(sorted, depth);
  let text = entries.join('\n');
  if (text.length > limits.maxChars) {
    const kept = clipLines(entries, limits.maxChars - 40);
    text = `${kept.join('\n')}\n… (${entries.length - kept.length} more entries)`;
  }
  return text;
}

function foldAt(files: readonly string[], depth: number): string[] {
  const counts = new Map<string, number>();
  for (const file of files) {
    const parts = file.split('/');
    const key = parts.length > depth ? `${parts.slice(0, depth).join('/')}/` : file;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, n]) => (key.endsWith('/') ? `${key} (${n} file${n === 1 ? '' : 's'})` : key));
}

function clipLines(lines: readonly string[], maxChars: number): string[] {
  const kept: string[] = [];
  let used = 0;
  for (const line of lines) {
    if (used + line.length + 1 > maxChars) break;
    kept.push(line);
    used += line.length + 1;
  }
  return kept;
}

/** The contract of the planner's answer; part of its system prompt whatever template is used. */
export const PLAN_CONTRACT_PROMPT = `Orch reads only the last fenced JSON block of your final message. Write your reasoning first if you like, then end with exactly one block of this form:

\`\`\`json
{
  "findings": "What you found in the repository that matters for the next steps (Markdown).",
  "tasks": [
    {
      "title": "One line, imperative: what the change does",
      "body": "What to change and why, which files or modules.\\n\\nAcceptance criteria:\\n- a check a reviewer can make\\n- another",
      "role": "implement",
      "priority": 0,
      "depends_on": [],
      "labels": []
    }
  ],
  "deferred": [{ "title": "Something not to do now", "reason": "why not now" }],
  "risks": ["A risk you see in the plan or the code."]
}
\`\`\`

Rules Orch checks:
- At most ${MAX_PLANNED_TASKS} tasks; each one coherent change, with a one-line title and a body ending with acceptance criteria.
- "role" is one of implement, test, review, fix. "priority" is a whole number, higher runs first (0 normal, 1 high, 2 urgent).
- "depends_on" lists indexes (0-based) of tasks earlier in your list that must be done first.
- A task that failed must never come back unchanged: propose it split into smaller tasks, or with a prerequisite task first (a task earlier in the list that it depends on) that removes the reason it failed. An unchanged repeat, or a task that is already open, is refused.`;

/** The prompt of a planner run: the repository and backlog as data, the template and contract as instructions. */
export function buildPlannerPrompt(input: PlannerInput, roleTemplate: string | null): AgentPrompt {
  const limits = PLAN_INPUT_LIMITS;
  const lines: string[] = [];
  if (input.split) {
    const target = input.split;
    lines.push(`# Split task #${target.id} of project ${input.project} into sub-tasks`, '');
    lines.push('This task is too large or has failed as a whole. Propose the sub-tasks that together achieve it, each one coherent change, in the order they can be done. The task waits for them, then its result is reviewed as a whole.', '');
    lines.push('## The task to split', '', `Title: ${target.title}`, '');
    if (target.body.trim()) lines.push(clip(target.body.trim(), limits.bodyChars), '');
    if (target.labels.length) lines.push(`Labels: ${target.labels.join(', ')}`, '');
    if (target.memory.length) lines.push('Its earlier attempts:', ...target.memory.map((m) => `- ${m}`), '');
  } else {
    lines.push(`# Plan the next tasks for project ${input.project}`, '');
    lines.push(`Read the repository (the default branch, ${input.defaultBranch}, is checked out in your working directory) and propose the next tasks worth doing, defer what should wait, and name the risks.`, '');
  }

  lines.push('## Repository files', '', '```text', fileTree(input.files), '```', '');
  const keyFiles = clipKeyFiles(input.keyFiles);
  if (keyFiles.length) {
    lines.push('## Key files', '');
    for (const file of keyFiles) lines.push(`### ${file.path}`, '', fence(file.text), '');
  }

  const open = input.openTasks.slice(0, limits.openTasks);
  lines.push('## Open tasks', '');
  if (open.length === 0) lines.push('None.');
  for (const task of open) lines.push(`- #${task.id} [${task.state}, ${task.role}] ${task.title}${task.note ? ` — ${task.note}` : ''}`);
  if (input.openTasks.length > open.length) lines.push(`- … and ${input.openTasks.length - open.length} more`);
  lines.push('');

  const outcomes = input.outcomes.slice(0, limits.outcomes);
  lines.push('## Recent outcomes', '');
  if (outcomes.length === 0) lines.push('None yet.');
  for (const task of outcomes) {
    lines.push(`- #${task.id} [${task.state}, ${task.role}] ${task.title}${task.note ? ` — ${task.note}` : ''}`);
    for (const line of task.memory) lines.push(`  - ${line}`);
  }
  lines.push('');
  if (outcomes.some((o) => o.memory.length > 0)) {
    lines.push('A task that failed must come back split or with a prerequisite first, never unchanged.', '');
  }

  const systemPromptAppend = [...(roleTemplate ? [roleTemplate, ''] : []), PLAN_CONTRACT_PROMPT].join('\n');
  return { prompt: lines.join('\n').trimEnd(), systemPromptAppend };
}

function clipKeyFiles(files: readonly { path: string; text: string }[]): { path: string; text: string }[] {
  const kept: { path: string; text: string }[] = [];
  let left = PLAN_INPUT_LIMITS.keyFilesChars;
  for (const file of files) {
    if (left <= 200) break;
    const text = clip(file.text.trim(), Math.min(PLAN_INPUT_LIMITS.keyFileChars, left));
    if (text === '') continue;
    kept.push({ path: file.path, text });
    left -= text.length;
  }
  return kept;
}

/** A fence longer than any run of backticks inside, so file content cannot close it early. */
function fence(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = '`'.repeat(longest + 1);
  return `${ticks}\n${text}\n${ticks}`;
}

/**
 * The follow-up when the answer could not be used: what was wrong, and (for a planner that cannot
 * continue its session) what it answered.
 */
export function correctionPrompt(error: string, previousAnswer: string | null): string {
  return [
    ...(previousAnswer ? previousAnswerSection(previousAnswer) : []),
    `Orch could not use your plan: ${error}.`,
    'Answer again with the whole plan, corrected, ending with the fenced ```json block.',
  ].join('\n');
}

/** The follow-up when proposals were refused as repeats: which, and why. */
export function revisionPrompt(refused: readonly Refusal[], previousAnswer: string | null): string {
  return [
    ...(previousAnswer ? previousAnswerSection(previousAnswer) : []),
    'Orch refused these proposed tasks:',
    ...refused.map((r) => `- task ${r.index} "${r.title}": ${r.reason}`),
    '',
    'A task that failed must come back split into smaller tasks, or with a prerequisite task first that removes the reason it failed. Do not propose what is already open.',
    'Answer again with the whole plan, revised, ending with the fenced ```json block.',
  ].join('\n');
}

function previousAnswerSection(answer: string): string[] {
  return ['## Your previous answer', '', fence(clip(answer.trim(), 12_000)), ''];
}
