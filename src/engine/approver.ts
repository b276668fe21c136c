// The LLM approver's run: the project's approver agent, read-only in a scratch directory of its own,
// asked about one permission request the rules left open. Its cost is the task's. Whatever goes
// wrong (no such agent, a failed or timed-out run, an unclear answer) leaves the request to a person.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApprovalDecision, ApproverSettings } from '../core/approvals.js';
import { approverDecision, approverPrompt, parseApproverAnswer, type ApproverRequest } from '../core/approver.js';
import { git } from '../workspace/git.js';
import type { Orch } from './context.js';
import { runReadOnlyAgent } from './read-only-run.js';

export interface ApproverVerdict {
  /** The approver's decision; null: a person decides. */
  decision: ApprovalDecision | null;
  /** Why a person is asked, when the approver did not decide. */
  passed: string | null;
}

/** `approver/`: the prompts and logs of approver runs, one folder each. Never a task's worktree. */
const approverDirectory = (home: string) => join(home, 'approver');

export async function askApprover(
  orch: Orch,
  settings: ApproverSettings,
  caller: { project: string; taskId: number },
  request: Omit<ApproverRequest, 'taskTitle' | 'project'>,
  options: { signal?: AbortSignal; sourceEnv?: NodeJS.ProcessEnv } = {},
): Promise<ApproverVerdict> {
  const agent = orch.config.agents[settings.agent];
  const project = orch.config.projects[caller.project];
  if (!agent || !project) return { decision: null, passed: `the approver agent ${settings.agent} is not configured` };
  const task = await orch.store.getTask(caller.taskId);
  const prompt = approverPrompt({ ...request, project: caller.project, taskTitle: task?.title ?? `#${caller.taskId}` });
  mkdirSync(approverDirectory(orch.home), { recursive: true, mode: 0o700 });
  const dir = mkdtempSync(join(approverDirectory(orch.home), `task-${caller.taskId}-`));
  const cwd = join(dir, 'work');
  const runHome = join(dir, 'home');
  mkdirSync(cwd, { mode: 0o700 });
  writeFileSync(join(dir, 'prompt.md'), `${prompt}\n`, { mode: 0o600 });
  // An empty repository of its own: some CLIs (codex) refuse to run outside one.
  await git(cwd, ['init', '-q']);
  const report = await runReadOnlyAgent(orch, {
    project,
    agent,
    prompt,
    cwd,
    runHome,
    runDir: dir,
    logPath: join(dir, 'approver.jsonl'),
    timeoutMs: settings.timeoutS * 1000,
    maxTurns: null,
    budgetUsd: settings.budgetUsd,
    signal: options.signal,
    sourceEnv: options.sourceEnv,
  });
  // The CLI's private HOME holds caches and sessions, not evidence: the prompt and log beside it are kept.
  rmSync(runHome, { recursive: true, force: true });
  const costUsd = report.costUsd ?? 0;
  if (costUsd > 0) {
    await orch.store.transaction(async (tx) => {
      const current = await tx.getTask(caller.taskId);
      if (current) await tx.updateTask(current.id, {}, { costUsd: current.costUsd + costUsd }, orch.now(), { type: 'task.cost', data: { addedUsd: costUsd, for: 'approver' } });
    });
  }
  if (report.outcome !== 'succeeded') {
    const how = report.outcome === 'timed_out' ? `timed out after ${settings.timeoutS} s` : `${report.outcome}: ${report.reason}`;
    return { decision: null, passed: `the approver's run ${how}` };
  }
  const answer = parseApproverAnswer(report.finalText);
  const decision = approverDecision(answer);
  return { decision, passed: decision === null ? `the approver asks a person: ${answer.reason}` : null };
}
