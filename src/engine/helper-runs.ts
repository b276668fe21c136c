// The agent runs an attempt makes besides its main one: the review agent the judge asks, and the one
// that resolves a rebase conflict before the merge. Their cost is the task's, each with an event.

import { join } from 'node:path';
import { failureForPrompt, type Verdict } from '../core/verdict.js';
import { runAgent, type Attempt } from './attempt.js';
import type { Orch } from './context.js';
import type { ReviewRunner } from './judge.js';
import { runReadOnlyAgent } from './read-only-run.js';
import { conflictResolutionPrompt } from '../core/pull-request-briefs.js';
import { finishRebase, mergeBranch, type MergeAttempt } from './refinery.js';

/** What a helper run takes from its attempt's options. */
export interface HelperRunOptions {
  signal?: AbortSignal;
  sourceEnv?: NodeJS.ProcessEnv;
}

/** The review agent `name`, run read-only in the worktree; null when the judge has none. */
export function reviewer(orch: Orch, attempt: Attempt, name: string | null, worktree: string, options: HelperRunOptions): ReviewRunner | null {
  const agent = name ? orch.config.agents[name] : undefined;
  if (!name || !agent) return null;
  return {
    run: async (prompt) => {
      const report = await runReadOnlyAgent(orch, {
        project: attempt.project,
        agent,
        prompt,
        cwd: worktree,
        runHome: join(attempt.runDir, 'review-home'),
        runDir: attempt.runDir,
        logPath: join(attempt.runDir, 'review.jsonl'),
        timeoutMs: attempt.project.run.timeoutS * 1000,
        stallMs: attempt.project.run.stallS * 1000,
        maxTurns: attempt.project.run.maxTurns,
        budgetUsd: null,
        maxOutputBytes: attempt.project.run.maxOutputMb * 1024 * 1024,
        signal: options.signal,
        sourceEnv: options.sourceEnv,
      });
      await addCost(orch, attempt, report.costUsd ?? 0, 'judge.review', { agent: name, outcome: report.outcome });
      return report.finalText;
    },
  };
}

/** Rebase, test and fast-forward; on a conflict, one agent attempt to resolve it, judged again. */
export async function mergeWithResolution(
  orch: Orch,
  attempt: Attempt,
  input: Parameters<typeof mergeBranch>[0],
  options: HelperRunOptions,
  judge: () => Promise<Verdict>,
): Promise<MergeAttempt> {
  const first = await mergeBranch(input);
  if (first.kind !== 'conflict') return first;
  await orch.store.appendEvent({ type: 'merge.conflict', project: attempt.project.name, taskId: attempt.task.id, runId: attempt.run.id, data: { files: first.files } }, orch.now());
  const prompt = conflictResolutionPrompt(attempt.task, input.defaultBranch, first.files);
  const outcome = await runAgent(orch, attempt, { cwd: input.worktree, prompt, signal: options.signal, sourceEnv: options.sourceEnv });
  await addCost(orch, attempt, outcome.report.costUsd ?? 0, 'merge.resolution', { outcome: outcome.report.outcome });
  if (outcome.report.outcome !== 'succeeded' || !(await finishRebase(input.worktree, first.files))) return first;
  const verdict = await judge();
  if (!verdict.passed) return { kind: 'tests_failed', detail: `after resolving the conflict: ${failureForPrompt(verdict)}` };
  return mergeBranch(input);
}

/** Adds what a helper run (review, conflict resolution) cost to the task, with an event saying what it was. */
export async function addCost(orch: Orch, attempt: Attempt, usd: number, type: string, data: Record<string, unknown>): Promise<void> {
  await orch.store.transaction(async (tx) => {
    const task = (await tx.getTask(attempt.task.id))!;
    await tx.updateTask(task.id, { fence: attempt.token }, { costUsd: task.costUsd + usd }, orch.now(), { type, data: { ...data, costUsd: usd } });
  });
}
