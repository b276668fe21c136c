// What an attempt tells its agent: the prompt (the task, its role's template, how earlier runs ended)
// and which earlier agent session it continues, if any.

import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { adapterFor } from '../agents/registry.js';
import { attemptRecordOf } from '../core/memory.js';
import { buildAgentPrompt, buildResumePrompt, type AgentPrompt, type PreviousAttempt } from '../core/prompt.js';
import { sessionToContinue, sessionToResume } from '../core/resume.js';
import type { Run } from '../core/types.js';
import type { StoreOps } from '../store/store.js';
import { runDirectory, type Attempt } from './attempt.js';
import type { Orch } from './context.js';
import { loadRoleTemplate } from './role-prompts.js';

/** How a task's earlier runs ended, and what the judge or merge found wrong with the last one. */
export async function attemptHistory(store: StoreOps, taskId: number, currentRunId: number): Promise<{ previous: PreviousAttempt[]; lastFailure: string | null }> {
  const runs = (await store.listRuns({ taskId })).filter((r) => r.id !== currentRunId);
  const previous = runs
    .filter((r) => r.outcome !== null)
    .map(attemptRecordOf);
  const last = runs.filter((r) => r.endedAt !== null).at(-1);
  const failure = (last?.result as Record<string, unknown> | null | undefined)?.failure;
  return { previous, lastFailure: typeof failure === 'string' ? failure : null };
}

/** The agent session an attempt continues (see sessionToResume), and the run whose HOME holds it. */
export interface SessionResume {
  sessionId: string;
  fromRunId: number;
  /** That run's HOME, where its CLI kept the session. */
  home: string;
}

/**
 * Where a run's HOME is reachable from here: under this ORCH_HOME, or beside its log wherever the host
 * that ran it keeps its runs (a path it shares with this one); null when neither exists (another host
 * ran it on its own disk: the next attempt starts afresh).
 */
export function reachableRunHome(orch: Pick<Orch, 'home'>, run: Pick<Run, 'id' | 'logPath'>): string | null {
  const candidates = [join(runDirectory(orch.home, run.id), 'home'), ...(run.logPath ? [join(dirname(run.logPath), 'home')] : [])];
  return candidates.find((path) => existsSync(path)) ?? null;
}

/**
 * Whether this attempt resumes the session of the run Orch's crash interrupted, or (`fixRound`) goes on
 * from the session that opened or last updated the task's pull request.
 */
export async function sessionResumeFor(orch: Orch, attempt: Attempt, options: { fixRound?: boolean } = {}): Promise<SessionResume | null> {
  const runs = (await orch.store.listRuns({ taskId: attempt.task.id })).filter((r) => r.id !== attempt.run.id);
  const pick = options.fixRound ? sessionToContinue : sessionToResume;
  const adapter = adapterFor(attempt.agent.kind);
  const found = pick(runs, attempt.agentName, adapter.resumes);
  const home = found ? reachableRunHome(orch, runs.find((r) => r.id === found.id)!) : null;
  if (!found || !home) return null;
  // Killed before it saved anything (its sandbox ends with Orch): resuming would fail; start afresh.
  if (adapter.savedSession && !adapter.savedSession(home, found.sessionId!)) return null;
  return { sessionId: found.sessionId!, fromRunId: found.id, home };
}

/**
 * The prompt of an attempt, from the task, its role's template (read from `cwd`, the worktree, where
 * the repository may keep its own) and how its earlier runs ended (`previous` when the caller has read
 * them already; or, resuming a session, why it stopped); kept as `prompt.md`.
 */
export async function promptFor(
  orch: Orch,
  attempt: Attempt,
  extra: { failure?: string | null; resume?: SessionResume | null; cwd?: string | null; previous?: PreviousAttempt[] } = {},
): Promise<AgentPrompt> {
  const roleTemplate = loadRoleTemplate(attempt.task.role, attempt.project, extra.cwd ?? null).text;
  if (extra.resume) {
    const prompt = buildResumePrompt(attempt.task, { roleTemplate });
    await writeFile(join(attempt.runDir, 'prompt.md'), `(resuming session ${extra.resume.sessionId} of run ${extra.resume.fromRunId})\n\n${prompt.prompt}\n\n---\n\n${prompt.systemPromptAppend}\n`, { mode: 0o600 });
    return prompt;
  }
  const previous = extra.previous ?? (await attemptHistory(orch.store, attempt.task.id, attempt.run.id)).previous;
  const prompt = buildAgentPrompt(attempt.task, previous, extra.failure ?? null, { roleTemplate });
  await writeFile(join(attempt.runDir, 'prompt.md'), `${prompt.prompt}\n\n---\n\n${prompt.systemPromptAppend}\n`, { mode: 0o600 });
  return prompt;
}
