import { groupAlive, terminateGroup, terminateMarked } from '../agents/process-group.js';
import { afterCrash, ATTEMPT_END_EVENTS, CRASH_LIMIT, interruptionsInARow } from '../core/after-run.js';
import { claimRecoverable, hostOfOwner, hostState, recoveredEndReason } from '../core/hosts.js';
import type { Claim, Run } from '../core/types.js';
import { clonePath, worktreesDir } from '../workspace/layout.js';
import { sweepOrphans, type SweepReport } from '../workspace/worktrees.js';
import { existsSync } from 'node:fs';
import type { Orch } from './context.js';
import { hostPeriodMs, onThisMachine, processGone, runHostName } from './hosts.js';
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

/**
 * Reconciles what a crash left behind, before anything new starts and on each patrol: each claim
 * another daemon may take over (core's `claimRecoverable`: its lease expired, its owner's process is
 * seen dead on this machine, or its owner's host stopped) loses its claim; its agent, if still running
 * on this machine, is stopped; its run is marked `crashed` — `interrupted` when it was this host's own,
 * `host_lost` when another host ran it — and its task continues: `done` when its merge had already
 * landed (so it is never merged twice), else back to the queue without using up an attempt (the next
 * one resumes the agent's session where its files are reachable and its CLI can), until Orch has died
 * under the same task CRASH_LIMIT times in a row (a person's retry starts the count afresh). A claim
 * whose owner is alive and whose lease is live is never touched. A pull worker whose owner died is
 * closed as `crashed` too, its agent stopped; the task it claimed, if any, is one of the claims above.
 */
export async function recover(orch: Orch, options: { skip?: ReadonlySet<number> } = {}): Promise<Recovered[]> {
  const now = orch.now();
  const hosts = await orch.store.listHosts();
  const periodMs = hostPeriodMs(orch);
  const self = runHostName(orch);
  const recoverable = (claim: Claim) => {
    const owner = hostOfOwner(hosts, claim.owner);
    return claimRecoverable(claim, { host: owner ? hostState(owner, now, periodMs) : null, processGone: processGone(claim.owner) }, now);
  };
  const stale = (await orch.store.listClaims()).filter((c) => !options.skip?.has(c.taskId) && recoverable(c));
  const recovered: Recovered[] = [];
  for (const claim of stale) {
    const run = claim.runId !== null ? await orch.store.getRun(claim.runId) : undefined;
    const local = run ? onThisMachine(hosts, run.host) : false;
    if (run?.pid && local && run.endedAt === null && groupAlive(run.pid)) await terminateGroup(run.pid, 2000);
    if (run?.logPath && local) await terminateMarked(run.logPath, 2000);
    const landed = run ? await mergeLanded(orch, claim, run) : false;
    const outcome = await orch.store.transaction(async (tx): Promise<Recovered | null> => {
      const at = orch.now();
      // Renewed by its owner, or taken over by another daemon, since it was judged: not this one's to take.
      const live = await tx.getClaim(claim.taskId);
      if (live?.token !== claim.token || live.leaseUntil !== claim.leaseUntil) return null;
      const task = await tx.getTask(claim.taskId);
      const active = task && (task.state === 'running' || task.state === 'judging' || task.state === 'merging') ? task : null;
      let action: Recovered['action'] = 'released';
      let reason = 'claim released';
      let decision: ReturnType<typeof afterCrash> | null = null;
      if (active?.state === 'merging' && landed) {
        action = 'finished';
        reason = 'merge had landed';
      } else if (active) {
        const ends = await tx.listEvents({ taskId: active.id, types: [...ATTEMPT_END_EVENTS] });
        decision = afterCrash(interruptionsInARow(ends.map((e) => e.type)) + 1, CRASH_LIMIT, `Orch stopped during the attempt (${active.state})`);
        action = decision.next === 'escalate' ? 'escalate' : 'retry';
        reason = decision.reason;
      }
      // The claim goes first: of two daemons taking it over at once, the one whose delete finds it
      // recovers it (the other's delete waits for that one's commit on any database, then finds
      // nothing), and the loser has written nothing.
      if (!(await tx.releaseClaim(claim.taskId, claim.token, at, { type: 'claim.recovered', data: { owner: claim.owner, action } }))) return null;
      if (run && run.endedAt === null) {
        const endReason = recoveredEndReason(run.host, self);
        const why = endReason === 'host_lost' ? `host ${run.host ?? '?'} stopped answering while the run was in progress` : 'Orch stopped while the run was in progress';
        await tx.updateRun(run.id, null, { endedAt: at, outcome: 'crashed', endReason, result: { ...(run.result as object | null), reason: why } }, at, {
          type: 'run.recovered',
          data: { owner: claim.owner, host: run.host, by: self, endReason },
        });
        // Its agent is gone: nobody is left to hear a decision on what it was asking.
        for (const waiting of await tx.listApprovals({ runId: run.id, state: 'pending' })) {
          await tx.decideApproval(waiting.id, { state: 'timed_out', decidedBy: 'timeout', reason: 'the run ended before anyone decided' }, at);
        }
      } else if (run && run.endReason === null) {
        // The agent had finished; Orch stopped while judging or merging its work.
        const endReason = task?.state === 'merging' && landed ? 'merged' : recoveredEndReason(run.host, self);
        await tx.updateRun(run.id, null, { endReason }, at, { type: 'run.recovered', data: { owner: claim.owner, endReason } });
      }
      if (active && action === 'finished') {
        await applyTransition(tx, active, 'finish', { now: at, reason: 'its merge had landed before Orch stopped' });
      } else if (active && decision?.next === 'escalate') {
        await applyTransition(tx, active, 'escalate', { now: at, reason: decision.reason, patch: { blockedReason: decision.reason } });
      } else if (active && decision) {
        // Not the task's failure: the attempt is given back, and the next one starts at once.
        await applyTransition(tx, active, 'retry', { now: at, reason: decision.reason, patch: { nextAttemptAt: null, attempts: Math.max(0, active.attempts - 1) } });
      }
      await settleWaits(tx, at);
      return { taskId: claim.taskId, runId: run?.id ?? null, action, reason };
    });
    if (outcome) recovered.push(outcome);
  }
  await recoverWorkers(orch);
  return recovered;
}

/** Closes the workers of owners that died, stopping an agent that outlived its Orch. */
async function recoverWorkers(orch: Orch): Promise<void> {
  const hosts = await orch.store.listHosts();
  const now = orch.now();
  const periodMs = hostPeriodMs(orch);
  const ownerGone = ({ owner }: { owner: string }) => {
    const host = hostOfOwner(hosts, owner);
    return processGone(owner) || (host !== undefined && hostState(host, now, periodMs) !== 'alive');
  };
  for (const worker of (await orch.store.listWorkers({ open: true })).filter(ownerGone)) {
    const local = onThisMachine(hosts, worker.host);
    if (worker.pid && local && groupAlive(worker.pid)) await terminateGroup(worker.pid, 2000);
    if (worker.logPath && local) await terminateMarked(worker.logPath, 2000);
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

/**
 * Whether the attempt that held `claim` had landed its merge, by its own record: `merge.done`, or a
 * commit it named (`merge.landing`) just before landing it that is on the default branch now — of
 * this host's clone, or for a project served from its remote, of the remote, fetched now. The task's
 * branch is no evidence: an earlier attempt may have left it in this clone without a commit of its
 * own, on a commit the default branch holds, and that task would be finished with its work lost.
 */
async function mergeLanded(orch: Orch, claim: Claim, run: Run): Promise<boolean> {
  const project = orch.config.projects[run.project];
  if (!project) return false;
  const events = await orch.store.listEvents({ taskId: claim.taskId, types: ['claim.acquired', 'merge.landing', 'merge.done'] });
  let attemptStart = -1;
  events.forEach((e, i) => {
    if (e.type === 'claim.acquired' && e.data.token === claim.token) attemptStart = i;
  });
  const attempt = attemptStart >= 0 ? events.slice(attemptStart + 1) : [];
  if (attempt.some((e) => e.type === 'merge.done')) return true;
  const named = attempt.filter((e) => e.type === 'merge.landing').map((e) => String(e.data.commit)).filter((commit) => /^[0-9a-f]{40,64}$/.test(commit));
  if (named.length === 0) return false;
  const clone = clonePath(orch.home, run.project);
  const defaultBranch = project.defaultBranch ?? (await orch.store.getProject(run.project))?.defaultBranch ?? 'main';
  try {
    let target = `refs/heads/${defaultBranch}`;
    if (landsOnRemote(project)) {
      // A crash between the push and moving the clone's branch leaves the merge on the remote only.
      await withLock(orch.home, `clone:${run.project}`, () => ensureClone(orch.home, { name: run.project, path: project.path, remote: project.remote, defaultBranch: project.defaultBranch }));
      target = `refs/remotes/origin/${defaultBranch}`;
    }
    for (const commit of named) {
      if (await isAncestor(clone, commit, target)) return true;
    }
    return false;
  } catch {
    return false;
  }
}
