// What runs now, counted from the store's claims and workers rather than from one process's memory:
// several daemons share the store, and a project's or an agent's limit holds across all of them, while
// `scheduler.max_agents` is the slots of one host.

export interface RunningClaim {
  taskId: number;
  owner: string;
}

/** The project and agent of a claimed task. */
export interface ClaimedTask {
  id: number;
  project: string;
  agent: string | null;
}

/** A pull worker still looking for a task: it holds a slot of its owner's. */
export interface IdleWorker {
  project: string;
  agent: string;
  owner: string;
}

export interface RunningWork {
  /** Slots taken on the host whose claims carry `self`: the count `scheduler.max_agents` bounds. */
  onThisHost: number;
  /** Slots taken per project across every host. */
  byProject: Map<string, number>;
  /** Slots taken per agent across every host. */
  byAgent: Map<string, number>;
}

/**
 * Counts the slots taken: a claim holds one from claim to release (agent run, judge and merge alike),
 * and a pull worker that has not claimed yet holds one too (one that has is counted by its claim).
 * Projects and agents count every host's work; the host's own slots count only the claims and workers
 * whose owner is `self`.
 */
export function countRunningWork(
  claims: readonly RunningClaim[],
  claimed: readonly ClaimedTask[],
  idleWorkers: readonly IdleWorker[],
  self: string,
): RunningWork {
  const byProject = new Map<string, number>();
  const byAgent = new Map<string, number>();
  const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  const tasks = new Map(claimed.map((t) => [t.id, t]));
  let onThisHost = 0;
  for (const claim of claims) {
    if (claim.owner === self) onThisHost++;
    const task = tasks.get(claim.taskId);
    if (!task) continue;
    count(byProject, task.project);
    if (task.agent !== null) count(byAgent, task.agent);
  }
  for (const worker of idleWorkers) {
    if (worker.owner === self) onThisHost++;
    count(byProject, worker.project);
    count(byAgent, worker.agent);
  }
  return { onThisHost, byProject, byAgent };
}
