import { rememberAttempts, PROMPT_MEMORY, type AttemptRecord } from './memory.js';
import { RESULT_CONTRACT_PROMPT } from './result-contract.js';
import { TEMPLATE_OF_ROLE, TOOL_MODE_OF_ROLE } from './roles.js';
import type { Role, Task } from './types.js';

/** An earlier attempt of the task, as memory keeps it (see core/memory.ts). */
export type PreviousAttempt = AttemptRecord;

export interface AgentPrompt {
  /** What the agent is asked to do. */
  prompt: string;
  /** Standing instructions appended to the CLI's system prompt (or prepended where it has none). */
  systemPromptAppend: string;
}

export interface PromptOptions {
  /** The role's template (shipped or the project's own), already normalised; null: none. */
  roleTemplate?: string | null;
}

/**
 * The prompt of one attempt: the task as written, a short memory of earlier attempts, what the judge
 * found wrong last time, and the result contract; the role's template leads the system prompt. Task
 * text is data here: it only ever travels as one argv element or a file, never through a shell.
 */
export function buildAgentPrompt(
  task: Pick<Task, 'id' | 'title' | 'body' | 'labels' | 'role'>,
  previous: readonly PreviousAttempt[],
  /** What the judge found wrong with the last attempt's work (failing test output), to fix this time. */
  lastFailure: string | null = null,
  options: PromptOptions = {},
): AgentPrompt {
  const lines = [`# Task #${task.id}: ${task.title}`, ''];
  if (task.body.trim()) lines.push(task.body.trim(), '');
  if (task.labels.length) lines.push(`Labels: ${task.labels.join(', ')}`, '');
  if (previous.length > 0) {
    lines.push('## Earlier attempts', '');
    for (const line of rememberAttempts(previous, PROMPT_MEMORY)) lines.push(`- ${line}`);
    lines.push('', 'Learn from them: do not repeat what failed.', '');
  }
  if (lastFailure) {
    lines.push('## What was wrong with the last attempt', '', lastFailure.trim(), '', 'The branch still holds that attempt: fix it.', '');
  }
  return { prompt: lines.join('\n').trimEnd(), systemPromptAppend: systemPromptFor(task, options.roleTemplate ?? null) };
}

/**
 * The prompt that continues an interrupted session: the CLI replays the conversation so far, so it
 * needs only to be told why it stopped and what is still expected of it.
 */
export function buildResumePrompt(task: Pick<Task, 'id' | 'title' | 'role'>, options: PromptOptions = {}): AgentPrompt {
  const prompt = [
    `Orch, which runs you, stopped while you were working on task #${task.id} (${task.title}), and has restarted.`,
    'Your work so far is still in this working directory. Check where you got to, finish the task, and end with the result block as before.',
  ].join(' ');
  return { prompt, systemPromptAppend: systemPromptFor(task, options.roleTemplate ?? null) };
}

function systemPromptFor(task: { id: number; role: Role }, roleTemplate: string | null): string {
  const edits = TOOL_MODE_OF_ROLE[task.role] === 'edit';
  return [
    ...(roleTemplate ? [roleTemplate, ''] : []),
    `You are working on task #${task.id} as its ${TEMPLATE_OF_ROLE[task.role]} in a git worktree of your own.`,
    edits
      ? 'Make the change in this working directory. Orch commits what you leave and judges it; you need not commit or push.'
      : 'Read what you need in this working directory but change nothing: your answer is your work.',
    '',
    RESULT_CONTRACT_PROMPT,
  ].join('\n');
}
