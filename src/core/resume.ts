import type { RunEndReason } from './end-reasons.js';
import type { Run } from './types.js';

/**
 * Whether the next attempt continues the agent session of the last one instead of starting afresh:
 * only when Orch's own death interrupted it (`crashed`) or a person paused it (`paused`), the CLI had
 * announced its session, the same agent runs again, and its CLI can resume. Any other ending gets a fresh session with the failure
 * in its prompt: a session that failed on its own is better not continued.
 */
export function sessionToResume(runs: readonly Pick<Run, 'id' | 'outcome' | 'endReason' | 'sessionId' | 'agent'>[], agent: string, agentCanResume: boolean): Pick<Run, 'id' | 'sessionId'> | null {
  if (!agentCanResume) return null;
  const last = runs.filter((r) => r.outcome !== null).reduce<(typeof runs)[number] | null>((latest, r) => (latest === null || r.id > latest.id ? r : latest), null);
  if (!last || (last.outcome !== 'crashed' && last.endReason !== 'paused') || last.sessionId === null || last.agent !== agent) return null;
  return { id: last.id, sessionId: last.sessionId };
}

/** The runs whose session a pull request's fix round goes on from: the one that opened or last updated it. */
const PULL_REQUEST_END_REASONS: readonly RunEndReason[] = ['pr_opened', 'pr_updated'];

/**
 * Whether a fix round on a pull request continues the session of the run that opened or last updated
 * it: the agent then knows the change it made and reads only what failed. Only the same agent, with a
 * CLI that can resume and a session it announced; any later run in between (a failed fix attempt)
 * starts afresh.
 */
export function sessionToContinue(runs: readonly Pick<Run, 'id' | 'endReason' | 'sessionId' | 'agent'>[], agent: string, agentCanResume: boolean): Pick<Run, 'id' | 'sessionId'> | null {
  if (!agentCanResume) return null;
  const last = runs.filter((r) => r.endReason !== null).reduce<(typeof runs)[number] | null>((latest, r) => (latest === null || r.id > latest.id ? r : latest), null);
  if (!last || !PULL_REQUEST_END_REASONS.includes(last.endReason!) || last.sessionId === null || last.agent !== agent) return null;
  return { id: last.id, sessionId: last.sessionId };
}
