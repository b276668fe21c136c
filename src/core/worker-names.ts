// How a pull worker is named where people and programs meet it: the ORCH_RUN_ID its agent sees, its
// branch and its worktree directory. All carry a `w` before the number, so a worker is never taken for
// a run (ORCH_RUN_ID of a push run is a bare number) or a task (task branches are `orch/<id>-<slug>`).

import { BRANCH_PREFIX } from './branch-name.js';

const WORKER_NAME = /^w(\d+)$/;

const idOf = (match: RegExpExecArray | null): number | null => {
  if (!match) return null;
  const id = Number(match[1]);
  return Number.isSafeInteger(id) && id > 0 ? id : null;
};

/** `w7`: how a worker is named in ORCH_RUN_ID, in its worktree directory and in its branch. */
export function workerName(id: number): string {
  if (!Number.isSafeInteger(id) || id <= 0) throw new RangeError(`a worker id is a whole number > 0, got ${id}`);
  return `w${id}`;
}

/** The worker an ORCH_RUN_ID (or a worktree directory name) names, or null for anything else. */
export function workerIdOfName(name: string | undefined): number | null {
  return name === undefined ? null : idOf(WORKER_NAME.exec(name.trim()));
}

/** `orch/w7`: the branch a worker starts on, before it knows its task. */
export function workerBranchName(id: number): string {
  return `${BRANCH_PREFIX}${workerName(id)}`;
}

/** The worker of a worker branch, or null for any other branch. */
export function workerIdOfBranch(branch: string): number | null {
  return branch.startsWith(BRANCH_PREFIX) ? workerIdOfName(branch.slice(BRANCH_PREFIX.length)) : null;
}
