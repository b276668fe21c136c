// What `orch serve` does when its grace period ends with agents still running: they are killed at once
// and the process exits before any of their ends is recorded, so their claims stay as a dead owner's and
// the next start recovers them (the run `crashed`, the session resumed, no attempt used up).

import { markedProcesses, signalGroup } from '../agents/process-group.js';
import { claimOwner } from './hosts.js';
import type { Orch } from './context.js';

/** The agents this process still runs: each run's process group, and its mark for those that left it. */
export async function runningAgents(orch: Orch): Promise<{ pgid: number; mark: string | null }[]> {
  const owner = claimOwner();
  const agents: { pgid: number; mark: string | null }[] = [];
  for (const claim of await orch.store.listClaims()) {
    if (claim.owner !== owner || claim.runId === null) continue;
    const run = await orch.store.getRun(claim.runId);
    if (run?.pid && run.endedAt === null) agents.push({ pgid: run.pid, mark: run.logPath });
  }
  for (const worker of await orch.store.listWorkers({ open: true })) {
    if (worker.owner === owner && worker.pid) agents.push({ pgid: worker.pid, mark: worker.logPath });
  }
  return agents;
}

/**
 * Kills them, synchronously: no callback of this process runs between the kill and the caller's exit,
 * so nothing records the runs as ended. Returns how many there were.
 */
export function killAgentsNow(agents: readonly { pgid: number; mark: string | null }[]): number {
  for (const { pgid, mark } of agents) {
    signalGroup(pgid, 'SIGKILL');
    for (const pid of mark ? markedProcesses(mark) : []) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  return agents.length;
}
