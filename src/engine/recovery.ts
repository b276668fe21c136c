import { hostname } from 'node:os';
import { groupAlive, terminateGroup, terminateMarked } from '../agents/process-group.js';
import { afterCrash, ATTEMPT_END_EVENTS, CRASH_LIMIT, interruptionsInARow } from '../core/after-run.js';
import type { Claim } from '../core/types.js';
import { clonePath, worktreesDir } from '../workspace/layout.js';
import { sweepOrphans, type SweepReport } from '../workspace/worktrees.js';
import { existsSync } from 'node:fs';
import type { Orch } from './context.js';
import { withLock } from './locks.js';
import { isAncestor } from './refinery.js';
import { landsOnRemote } from './shared-remote.js';
import { ensureClone } from '../workspace/clone.js';
import { applyTransition } from './transitions.js';
import { OPEN_STATES, settleWaits } from './wait-graph.js';

export interface Recovered {
  taskId: number;
  runId: number | null;
  /** What became of the task: done (its merge had landed), requeued, or left to a person. */
  action: 'finished' | 'retry' | 'escalate' | 'released';
  reason: string;
}

/** Whether a claim's (or a worker's) owner is a process of this host that no longer runs. */
function ownerGone({ owner }: Pick<Claim, 'owner'>): boolean {
  const [host, pid] = [owner.slice(0, owner.lastIndexOf(':')), Number(owner.slice(owner.lastIndexOf(':') + 1))];
  if (host !== hostname() || !Number.isSafeInteger(pid)) return false;
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

/**
 * Reconciles what a crash left behind, before anything new starts: each claim whose owner died (on this
 * host) or whose lease expired loses its claim; its agent, if still running, is stopped; its run is
 * marked `crashed`; and its task continues — `done` when its merge had already landed (so it is never
 * merged twice), else back to the queue without using up an attempt (the next one resumes the agent's
 * session where its CLI can), until Orch has died under the same task CRASH_LIMIT times in a row (a
 * person's retry starts the count afresh). A pull worker
 * whose owner died is closed as `crashed` too, its agent stopped; the task it claimed, if any, is one of
 * the claims above.
 */
export async function recover(orch: Orch, options: { skip?: ReadonlySet<number> } = {}): Promise<Recovered[]> {
  const now = orch.now();
  const expired = new Set((await orch.store.expiredClaims(now)).map((c) => c.taskId));
  const stale = (await orch.store.listClaims()).filter((c) => !options.skip?.has(c.taskId) && (expired.has(c.taskId) || ownerGone(c)));
  const recovered: Recovered[] = [];
  for (const claim of stale) {
    const run = claim.runId !== null ? await orch.store.getRun(claim.runId) : undefined;
    if (run?.pid && run.host === hostname() && run.endedAt === null && groupAlive(run.pid)) await terminateGroup(run.pid, 2000);
    if (run?.logPath && run.host === hostname()) await terminateMarked(run.logPath, 2000);
    const landed = run?.branch ? await branchLanded(orch, run.project, run.branch) : false;
    recovered.push(
      await orch.store.transaction(async (tx) => {
        const at = orch.now();
        const task = await tx.getTask(claim.taskId);
        if (run && run.endedAt === null) {
          await tx.updateRun(run.id, null, { endedAt: at, outcome: 'crashed', endReason: 'interrupted', result: { ...(run.result as object | null), reason: 'Orch stopped while the run was in progress' } }, at, {
            type: 'run.recovered',
            data: { owner: claim.owner },
          });
        } else if (run && run.endReason === null) {
          // The agent had finished; Orch stopped while judging or merging its work.
          const endReason = task?.state === 'merging' && landed ? 'merged' : 'interrupted';
          await tx.updateRun(run.id, null, { endReason }, at, { type: 'run.recovered', data: { owner: claim.owner, endReason } });
        }
        let action: Recovered['action'] = 'released';
        let reason = 'claim released';
        if (task && (task.state === 'running' || task.state === 'judging' || task.state === 'merging')) {
          if (task.state === 'merging' && landed) {
            await applyTransition(tx, task, 'finish', { now: at, reason: 'its merge had landed before Orch stopped' });
            action = 'finished';
            reason = 'merge had landed';
          } else {
            const ends = await tx.listEvents({ taskId: task.id, types: [...ATTEMPT_END_EVENTS] });
            const interruptions = interruptionsInARow(ends.map((e) => e.type)) + 1;
            const decision = afterCrash(interruptions, CRASH_LIMIT, `Orch stopped during the attempt (${task.state})`);
            if (decision.next === 'escalate') {
              await applyTransition(tx, task, 'escalate', { now: at, reason: decision.reason, patch: { blockedReason: decision.reason } });
            } else {
              // Not the task's failure: the attempt is given back, and the next one starts at once.
              await applyTransition(tx, task, 'retry', { now: at, reason: decision.reason, patch: { nextAttemptAt: null, attempts: Math.max(0, task.attempts - 1) } });
            }
            action = decision.next === 'escalate' ? 'escalate' : 'retry';
            reason = decision.reason;
          }
        }
        await tx.releaseClaim(claim.taskId, claim.token, at, { type: 'claim.recovered', data: { owner: claim.owner, action } });
        await settleWaits(tx, at);
        return { taskId: claim.taskId, runId: run?.id ?? null, action, reason };
      }),
    );
  }
  await recoverWorkers(orch);
  return recovered;
}

/** Closes the workers of owners that died, stopping an agent that outlived its Orch. */
async function recoverWorkers(orch: Orch): Promise<void> {
  for (const worker of (await orch.store.listWorkers({ open: true })).filter(ownerGone)) {
    if (worker.pid && worker.host === hostname() && groupAlive(worker.pid)) await terminateGroup(worker.pid, 2000);
    if (worker.logPath && worker.host === hostname()) await terminateMarked(worker.logPath, 2000);
    const at = orch.now();
    await orch.store.updateWorker(worker.id, { endedAt: at, outcome: 'crashed', reason: 'Orch stopped while the worker ran' }, at, {
      type: 'worker.recovered',
      data: { owner: worker.owner, outcome: 'crashed' },
    });
  }
}

/**
 * Removes worktrees and `orch/` branches that no open task or running pull worker owns any more (left
 * by a crash between a merge and its clean-up, or by a task cancelled mid-run). Worktrees of tasks
 * waiting for a person stay.
 */
export async function sweepWorkspaces(orch: Orch): Promise<Record<string, SweepReport>> {
  const reports: Record<string, SweepReport> = {};
  for (const name of Object.keys(orch.config.projects)) {
    const clone = clonePath(orch.home, name);
    if (!existsSync(clone)) continue;
    // Under the clone's lock, owners read first: a worktree made meanwhile would have no owner yet.
    const report = await withLock(orch.home, `clone:${name}`, async () => {
      const open = await orch.store.listTasks({ project: name, states: OPEN_STATES });
      const workers = await orch.store.listWorkers({ project: name, open: true });
      return sweepOrphans(clone, worktreesDir(orch.home, name), new Set(open.map((t) => t.id)), new Set(workers.map((w) => w.id)));
    });
    if (report.worktrees.length + report.branches.length + report.directories.length > 0) {
      await orch.store.appendEvent({ type: 'workspace.swept', project: name, data: { ...report } }, orch.now());
    }
    reports[name] = report;
  }
  return reports;
}

/** Whether a task branch's commits are already on the project's default branch in Orch's clone. */
async function branchLanded(orch: Orch, projectName: string, branch: string): Promise<boolean> {
  const project = orch.config.projects[projectName];
  if (!project) return false;
  const clone = clonePath(orch.home, projectName);
  const defaultBranch = project.defaultBranch ?? (await orch.store.getProject(projectName))?.defaultBranch ?? 'main';
  try {
    if (await isAncestor(clone, `refs/heads/${branch}`, `refs/heads/${defaultBranch}`)) return true;
    if (!landsOnRemote(project)) return false;
    // Served from its remote: a crash between the push and moving the clone's branch leaves the
    // merge on the remote only. The remote, fetched now, says whether it landed.
    await withLock(orch.home, `clone:${projectName}`, () => ensureClone(orch.home, { name: projectName, path: project.path, remote: project.remote, defaultBranch: project.defaultBranch }));
    return await isAncestor(clone, `refs/heads/${branch}`, `refs/remotes/origin/${defaultBranch}`);
  } catch {
    return false;
  }
}
