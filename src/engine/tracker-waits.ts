import type { Task } from '../core/types.js';
import type { Store } from '../store/store.js';
import type { TrackedIssue } from '../trackers/tracker.js';

/**
 * An issue that is ready but for its open blockers becomes a task at once, waiting on its blockers'
 * tasks: Orch starts it the moment they are done, in the same `orch run --once`, instead of when the
 * tracker next shows it ready. That holds only when every blocker is a task Orch can still finish.
 */

/** The ids of the tasks of an issue's blockers, or null when one of them is not such a task. */
export async function blockerTasks(store: Store, project: string, issue: TrackedIssue): Promise<number[] | null> {
  if (!issue.readyButForDependencies || issue.closed || issue.dependsOn.length === 0) return null;
  const blockers = await store.listTasks({ project, externalRefs: issue.dependsOn });
  const byRef = new Map(blockers.map((task) => [task.externalRef, task]));
  const ids: number[] = [];
  for (const ref of issue.dependsOn) {
    const blocker = byRef.get(ref);
    if (!blocker || blocker.state === 'cancelled') return null;
    ids.push(blocker.id);
  }
  return ids;
}

/**
 * Whether the tracker holds the issue only for blockers the task already waits on in Orch: then that
 * wait is the hold, and when Orch finishes them first (the tracker still showing them open for a
 * moment) the task goes ahead rather than being held.
 */
export async function heldOnlyByOwnDependencies(store: Store, project: string, task: Task, issue: TrackedIssue): Promise<boolean> {
  if (!issue.readyButForDependencies || task.dependsOn.length === 0) return false;
  const ids = await blockerTasks(store, project, issue);
  return ids !== null && ids.every((id) => task.dependsOn.includes(id));
}
