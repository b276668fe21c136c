import { RESULT_CONTRACT_PROMPT } from './result-contract.js';
import type { Task } from './types.js';

export interface PreviousAttempt {
  attempt: number;
  outcome: string;
  reason: string;
  summary: string | null;
}

export interface AgentPrompt {
  /** What the agent is asked to do. */
  prompt: string;
  /** Standing instructions appended to the CLI's system prompt (or prepended where it has none). */
  systemPromptAppend: string;
}

/**
 * The prompt of one attempt: the task as written, what earlier attempts ended with, and the result
 * contract. Task text is data here: it only ever travels as one argv element or a file, never through a shell.
 */
export function buildAgentPrompt(
  task: Pick<Task, 'id' | 'title' | 'body' | 'labels' | 'role'>,
  previous: readonly PreviousAttempt[],
  /** What the judge found wrong with the last attempt's work (failing test output), to fix this time. */
  lastFailure: string | null = null,
): AgentPrompt {
  const lines = [`# Task #${task.id}: ${task.title}`, ''];
  if (task.body.trim()) lines.push(task.body.trim(), '');
  if (task.labels.length) lines.push(`Labels: ${task.labels.join(', ')}`, '');
  if (previous.length > 0) {
    lines.push('## Earlier attempts', '');
    for (const p of previous) lines.push(`- Attempt ${p.attempt} ended ${p.outcome}: ${p.reason}${p.summary ? ` — ${p.summary}` : ''}`);
    lines.push('', 'Learn from them: do not repeat what failed.', '');
  }
  if (lastFailure) {
    lines.push('## What was wrong with the last attempt', '', lastFailure.trim(), '', 'The branch still holds that attempt: fix it.', '');
  }
  const systemPromptAppend = [
    `You are working on task #${task.id} as its ${task.role === 'implement' ? 'implementer' : task.role} in a git worktree of your own.`,
    'Make the change in this working directory. Orch commits what you leave and judges it; you need not commit or push.',
    '',
    RESULT_CONTRACT_PROMPT,
  ].join('\n');
  return { prompt: lines.join('\n').trimEnd(), systemPromptAppend };
}

/**
 * The prompt that continues an interrupted session: the CLI replays the conversation so far, so it
 * needs only to be told why it stopped and what is still expected of it.
 */
export function buildResumePrompt(task: Pick<Task, 'id' | 'title' | 'role'>): AgentPrompt {
  const prompt = [
    `Orch, which runs you, stopped while you were working on task #${task.id} (${task.title}), and has restarted.`,
    'Your work so far is still in this working directory. Check where you got to, finish the task, and end with the result block as before.',
  ].join(' ');
  return { prompt, systemPromptAppend: buildAgentPrompt({ ...task, body: '', labels: [] }, []).systemPromptAppend };
}
