import type { Run } from './types.js';

/**
 * Whether the next attempt continues the agent session of the last one instead of starting afresh:
 * only when Orch's own death interrupted it (`crashed`), the CLI had announced its session, the same
 * agent runs again, and its CLI can resume. Any other ending gets a fresh session with the failure
 * in its prompt: a session that failed on its own is better not continued.
 */
export function sessionToResume(runs: readonly Pick<Run, 'id' | 'outcome' | 'sessionId' | 'agent'>[], agent: string, agentCanResume: boolean): Pick<Run, 'id' | 'sessionId'> | null {
  if (!agentCanResume) return null;
  const last = runs.filter((r) => r.outcome !== null).reduce<(typeof runs)[number] | null>((latest, r) => (latest === null || r.id > latest.id ? r : latest), null);
  if (!last || last.outcome !== 'crashed' || last.sessionId === null || last.agent !== agent) return null;
  return { id: last.id, sessionId: last.sessionId };
}
