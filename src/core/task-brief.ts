import { buildAgentPrompt, type PreviousAttempt } from './prompt.js';
import { RESULT_CONTRACT_PROMPT } from './result-contract.js';
import type { Role, Task } from './types.js';

/** What a pull worker reads of the task it claimed (`orch agent describe`). */
export interface TaskBrief {
  id: number;
  title: string;
  body: string;
  labels: string[];
  role: Role;
  /** The list under an "Acceptance criteria" heading of the body; empty when it has none. */
  acceptanceCriteria: string[];
  earlierAttempts: PreviousAttempt[];
  /** What the judge or the merge found wrong with the last attempt. */
  lastFailure: string | null;
  resultContract: string;
}

export function buildTaskBrief(
  task: Pick<Task, 'id' | 'title' | 'body' | 'labels' | 'role'>,
  previous: readonly PreviousAttempt[],
  lastFailure: string | null,
): TaskBrief {
  return {
    id: task.id,
    title: task.title,
    body: task.body,
    labels: [...task.labels],
    role: task.role,
    acceptanceCriteria: acceptanceCriteria(task.body),
    earlierAttempts: [...previous],
    lastFailure,
    resultContract: RESULT_CONTRACT_PROMPT,
  };
}

/** The brief as the worker reads it: the same task text a push run's prompt carries, then how to finish. */
export function renderTaskBrief(brief: TaskBrief): string {
  const { prompt } = buildAgentPrompt(brief, brief.earlierAttempts, brief.lastFailure);
  return [
    prompt,
    '',
    '## When you are done',
    '',
    'Commit your work in this directory (Orch commits whatever you leave), run `orch agent done --summary "<one line>"`, and end your final message with the result block:',
    '',
    brief.resultContract,
  ].join('\n');
}

const CRITERIA_HEADING = /^\s*(?:#{1,6}\s+)?(?:\*\*|__)?acceptance criteria(?:\*\*|__)?\s*:?\s*(?:\*\*|__)?\s*(.*)$/i;
const LIST_ITEM = /^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?(.*\S)\s*$/;

/**
 * The acceptance criteria a task's body states: the list after a line reading "Acceptance criteria"
 * (a Markdown heading, bold, or plain, with or without a colon), or the text after that colon when no
 * list follows. An indented line continues the item above it; the list ends at the first other line.
 */
export function acceptanceCriteria(body: string): string[] {
  const lines = body.split(/\r?\n/);
  const start = lines.findIndex((line) => CRITERIA_HEADING.test(line));
  if (start < 0) return [];
  const inline = CRITERIA_HEADING.exec(lines[start]!)![1]!.trim();
  const items: string[] = [];
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') {
      // A blank line inside a loose list is fine; one before anything else ends it.
      const next = lines.slice(i + 1).find((l) => l.trim() !== '');
      if (items.length > 0 && (next === undefined || !LIST_ITEM.test(next))) break;
      continue;
    }
    const item = LIST_ITEM.exec(line);
    if (item) items.push(item[1]!);
    else if (items.length > 0 && /^\s+\S/.test(line)) items[items.length - 1] += ` ${line.trim()}`;
    else break;
  }
  return items.length === 0 && inline !== '' ? [inline] : items;
}
