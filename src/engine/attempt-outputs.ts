import { taskTextProblem } from '../core/task-limits.js';
import type { Task } from '../core/types.js';
import type { Attempt } from './attempt.js';
import type { Orch } from './context.js';
import { addTask } from './tasks.js';

// What a judged attempt leaves besides its merge: the follow-up tasks its agent asked for, and the
// description of the pull request it opens.

/** The agent's follow-ups become new tasks, children of this one. */
export async function createFollowUps(orch: Orch, attempt: Attempt, runResult: unknown): Promise<void> {
  const followUps = (runResult as { contract?: { followUps?: string[] } | null } | null)?.contract?.followUps ?? [];
  for (const text of followUps) {
    const [first = '', ...rest] = text.trim().split('\n');
    const title = first.trim().slice(0, 300);
    if (!title) continue;
    const body = [rest.join('\n').trim(), `Follow-up from task #${attempt.task.id}.`].filter(Boolean).join('\n\n');
    // The work is merged already: a follow-up that could never run is left out, not allowed to fail it.
    const problem = taskTextProblem({ title, body });
    if (problem !== null) {
      await orch.store.appendEvent({ type: 'task.follow_up_refused', project: attempt.project.name, taskId: attempt.task.id, data: { title: title.replaceAll('\0', ' '), reason: problem } }, orch.now());
      continue;
    }
    await addTask(orch.store, { project: attempt.project.name, title, body, parentId: attempt.task.id }, orch.now());
  }
}

/** What a reviewer reads first on the pull request: the task, what the judge found, where the audit trail is. */
export function pullRequestBody(task: Task, verdictSummary: string, runId: number): string {
  return [
    `Orch task #${task.id}: ${task.title}`,
    '',
    `**Judge:** ${verdictSummary}`,
    '',
    `Attempt ${task.attempts}${task.agent ? ` by ${task.agent}` : ''}, $${task.costUsd.toFixed(4)} so far; the run's log, prompt and verdict are in Orch's runs/${runId}/.`,
  ].join('\n');
}
