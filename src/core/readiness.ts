import type { BlockKind, TaskState } from './types.js';

/** What readiness needs to know of a task. */
export interface GraphTask {
  id: number;
  state: TaskState;
  parentId: number | null;
  dependsOn: readonly number[];
  blockKind?: BlockKind | null;
  blockedReason?: string | null;
}

export type Readiness =
  | { ready: true }
  | { ready: false; kind: 'dependencies' | 'children'; waitingOn: number[] };

/** A dependency is met once it is done; a task Orch no longer knows (removed) does not hold others back. */
const dependencyMet = (dep: GraphTask | undefined) => dep === undefined || dep.state === 'done';
/** A child stops holding its parent back once it has finished either way. */
const childSettled = (child: GraphTask) => child.state === 'done' || child.state === 'cancelled';

export interface TaskGraph {
  byId: ReadonlyMap<number, GraphTask>;
  childrenOf: ReadonlyMap<number, readonly GraphTask[]>;
}

export function buildTaskGraph(tasks: Iterable<GraphTask>): TaskGraph {
  const byId = new Map<number, GraphTask>();
  const childrenOf = new Map<number, GraphTask[]>();
  for (const task of tasks) {
    byId.set(task.id, task);
    if (task.parentId !== null) {
      const siblings = childrenOf.get(task.parentId);
      if (siblings) siblings.push(task);
      else childrenOf.set(task.parentId, [task]);
    }
  }
  return { byId, childrenOf };
}

/** Whether a task may run now: every dependency done, and (for a parent) every child settled. */
export function readinessOf(task: GraphTask, graph: TaskGraph): Readiness {
  const deps = task.dependsOn.filter((id) => !dependencyMet(graph.byId.get(id)));
  if (deps.length > 0) return { ready: false, kind: 'dependencies', waitingOn: deps };
  const children = (graph.childrenOf.get(task.id) ?? []).filter((c) => !childSettled(c)).map((c) => c.id);
  if (children.length > 0) return { ready: false, kind: 'children', waitingOn: children };
  return { ready: true };
}

export interface BlockChange {
  id: number;
  transition: 'block' | 'unblock';
  kind: 'dependencies' | 'children';
  waitingOn: number[];
  /** The blocked reason to record ("waits on #3, #4"); null on unblock. */
  reason: string | null;
}

/** How a wait reads to a person, in events, `orch task get` and the dashboard. */
export function waitReason(waitingOn: readonly number[]): string {
  return `waits on ${waitingOn.map((id) => `#${id}`).join(', ')}`;
}

/**
 * The moves that keep `blocked` truthful: a waiting task that is not yet blocked gets blocked, and a
 * task blocked on dependencies or children whose wait is over gets unblocked. Tasks blocked by an
 * agent or a person are left alone: only a person (or the agent's next word) clears those.
 */
export function blockChanges(graph: TaskGraph): BlockChange[] {
  const changes: BlockChange[] = [];
  for (const task of graph.byId.values()) {
    const canWait = task.state === 'new' || task.state === 'routed';
    const autoBlocked = task.state === 'blocked' && (task.blockKind === 'dependencies' || task.blockKind === 'children');
    if (!canWait && !autoBlocked) continue;
    const readiness = readinessOf(task, graph);
    if (readiness.ready) {
      if (autoBlocked) changes.push({ id: task.id, transition: 'unblock', kind: task.blockKind as BlockChange['kind'], waitingOn: [], reason: null });
      continue;
    }
    const reason = waitReason(readiness.waitingOn);
    // A blocked task still waiting, but on something else now, gets its reason brought up to date.
    if (canWait || readiness.kind !== task.blockKind || reason !== task.blockedReason) {
      changes.push({ id: task.id, transition: 'block', kind: readiness.kind, waitingOn: readiness.waitingOn, reason });
    }
  }
  return changes.sort((a, b) => a.id - b.id);
}

/**
 * The "waits on" edges of a task: its dependencies, and its children (a parent waits for them).
 * A cycle in these edges would leave every task on it waiting forever.
 */
function waitsOn(task: GraphTask, graph: TaskGraph): number[] {
  return [...task.dependsOn, ...(graph.childrenOf.get(task.id) ?? []).map((c) => c.id)];
}

/**
 * The cycle that giving `taskId` these extra waits (dependencies, or a parent-to-child edge) would
 * create, as a path `[taskId, …, taskId]`; null when there is none.
 */
export function findWaitCycle(taskId: number, extraWaits: readonly number[], graph: TaskGraph): number[] | null {
  for (const start of extraWaits) {
    if (start === taskId) return [taskId, taskId];
    const path = pathBetween(start, taskId, graph);
    if (path) return [taskId, ...path];
  }
  return null;
}

/** Depth-first search along waits-on edges; the path from `from` to `to`, or null. */
function pathBetween(from: number, to: number, graph: TaskGraph): number[] | null {
  const cameFrom = new Map<number, number>();
  const stack = [from];
  const seen = new Set([from]);
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (id === to) {
      const path = [id];
      for (let at = id; at !== from; ) {
        at = cameFrom.get(at)!;
        path.unshift(at);
      }
      return path;
    }
    const task = graph.byId.get(id);
    if (!task) continue;
    for (const next of waitsOn(task, graph)) {
      if (seen.has(next)) continue;
      seen.add(next);
      cameFrom.set(next, id);
      stack.push(next);
    }
  }
  return null;
}
