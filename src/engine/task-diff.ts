// A task's change for people to read: the diff of its branch against the default branch, from Orch's
// own clone while the branch exists, else the copy the judge saved beside its verdict (a merged
// task's branch is deleted with its worktree).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { branchName } from '../core/branch-name.js';
import { OrchError } from '../core/errors.js';
import { branchDiff, truncateDiff } from '../workspace/branch-diff.js';
import { clonePath } from '../workspace/layout.js';
import { runDirectory } from './attempt.js';
import type { Orch } from './context.js';
import { getTask } from './tasks.js';

/** A diff bigger than this is cut: a browser tab is no place for a vendored dependency. */
export const MAX_DIFF_BYTES = 1024 * 1024;

/** What the judge writes beside verdict.md: the diff it judged. */
export const SAVED_DIFF_FILE = 'diff.patch';

export interface TaskDiff {
  taskId: number;
  branch: string;
  base: string;
  /** `branch`: live from Orch's clone; `saved`: the diff the judge last saw; `none`: nothing to show yet. */
  source: 'branch' | 'saved' | 'none';
  /** The run whose saved diff this is (source `saved`). */
  runId: number | null;
  diff: string;
  truncated: boolean;
}

export async function taskDiff(orch: Orch, taskId: number): Promise<TaskDiff> {
  const task = await getTask(orch.store, taskId);
  const project = await orch.store.getProject(task.project);
  if (!project) throw new OrchError('not_found', `project "${task.project}" not found`);
  const runs = (await orch.store.listRuns({ taskId })).reverse();
  // The branch a run recorded is the truth; the name is derived from the title only before any run.
  const branch = runs.find((run) => run.branch !== null)?.branch ?? branchName(task.id, task.title);
  const base = project.defaultBranch;
  const clone = clonePath(orch.home, project.name);

  const live = existsSync(clone) ? await branchDiff(clone, base, branch, MAX_DIFF_BYTES) : null;
  // Empty while the branch is there: merged, and the default branch holds it now (the branch goes a
  // moment later). What it changed is what the judge saw.
  if (live && live.diff !== '') return { taskId, branch, base, source: 'branch', runId: null, ...live };
  for (const run of runs) {
    const saved = join(runDirectory(orch.home, run.id), SAVED_DIFF_FILE);
    if (existsSync(saved)) return { taskId, branch, base, source: 'saved', runId: run.id, ...truncateDiff(readFileSync(saved, 'utf8'), MAX_DIFF_BYTES) };
  }
  return { taskId, branch, base, source: 'none', runId: null, diff: '', truncated: false };
}

