import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { agentBaseEnvironment } from '../agents/environment.js';
import { branchName } from '../core/branch-name.js';
import { wantsSplit } from '../core/plan.js';
import { conflictResolutionPrompt } from '../core/pull-request-briefs.js';
import type { RunEndReason } from '../core/end-reasons.js';
import { TERMINAL_STATES, type Task } from '../core/types.js';
import { failureForPrompt, renderVerdictMarkdown, type Verdict } from '../core/verdict.js';
import type { Clone } from '../workspace/clone.js';
import { commandPassed, describeCommand, runCommand } from '../workspace/commands.js';
import { branchChanged, truncateDiff } from '../workspace/branch-diff.js';
import { pushBranch, type DeliveryResult } from '../workspace/deliver.js';
import { git, tryGit } from '../workspace/git.js';
import { configuredHook, hookFailure, runHook, type HookName } from '../workspace/hooks.js';
import { worktreesDir } from '../workspace/layout.js';
import { copyUntrackedFiles, slotEnvironment } from '../workspace/setup.js';
import { prepareSpareWorktree, removeWorktree } from '../workspace/worktrees.js';
import {
  beginAttempt,
  endAttempt,
  failAttempt,
  runAgent,
  settleAgentRun,
  type AgentRunOutcome,
  type Attempt,
  type GivenRouting,
} from './attempt.js';
import type { Orch } from './context.js';
import { makingWorktree, refreshClone, taskWorkspace, worktreesWaiting } from './clone-access.js';
import { deliverMerged } from './delivery.js';
import { giveBackAttempt, isStorageFull } from './storage-condition.js';
import { judgeBranch } from './judge.js';
import { commandSandbox } from './run-sandbox.js';
import { judgeSettingsAt } from './judge-settings.js';
import { attemptHistory, promptFor, sessionResumeFor } from './attempt-prompt.js';
import { mergeWithResolution, reviewer } from './helper-runs.js';
import { withLock, withSharedLock } from './locks.js';
import { landsOnRemote, remoteLanding } from './shared-remote.js';
import { MAX_DIFF_BYTES, SAVED_DIFF_FILE } from './task-diff.js';
import { splitTask } from './planner.js';
import { pushPullRequestFix, startRebaseRound } from './pr-fix.js';
import { pendingFixRound } from './pr-watch.js';
import { finishRebase, landInClone } from './refinery.js';
import { routeTask } from './router.js';
import type { TaskPatch } from '../store/store.js';
import type { Tracker } from '../trackers/tracker.js';
import { createFollowUps, pullRequestBody } from './attempt-outputs.js';
import { applyTransition } from './transitions.js';

export interface RunTaskOptions {
  agent?: string;
  /** How the caller chose `agent`, when it was the tick's round robin. */
  routing?: GivenRouting;
  /** The slot this run occupies: it decides the ports handed to the agent. */
  slot?: number;
  signal?: AbortSignal;
  /** The environment agents, hooks and judge commands start from (default: this process's). */
  sourceEnv?: NodeJS.ProcessEnv;
  random?: () => number;
  /** The project's tracker: with the pr strategy it opens the pull request. */
  tracker?: Tracker | null;
}

/** How the pipeline left the task. */
export interface TaskRunSummary {
  task: Task;
  runId: number;
  /** The step the pipeline stopped at and why, in a person's words. */
  note: string;
  merged: string | null;
  delivery: DeliveryResult | null;
}

/**
 * One task from claim to merged commit: worktree (Orch's clone, never the user's checkout) → hooks →
 * agent → commit of what it left → judge → refinery (rebase, test again, fast-forward) → delivery to
 * the user's repository → clean-up. Every step is an event; any failure becomes a retry with backoff
 * or a reason for a person to look, never an exception that leaves a claim behind.
 */
export async function runTask(orch: Orch, taskId: number, options: RunTaskOptions = {}): Promise<TaskRunSummary> {
  if (options.agent === undefined) {
    // Run directly (not planned by the tick): a task its project's router has not seen yet asks it first.
    const waiting = await orch.store.getTask(taskId);
    if (waiting?.state === 'new' && orch.config.projects[waiting.project]?.routing.router) {
      await routeTask(orch, taskId, { signal: options.signal, sourceEnv: options.sourceEnv });
    }
  }
  const attempt = await beginAttempt(orch, taskId, { agent: options.agent, routing: options.routing });
  return carryAttempt(orch, attempt, options, async (summary) => {
    // A task marked for planning is split into sub-tasks by the planner rather than worked on.
    const subTasks = wantsSplit(attempt.task) ? (await orch.store.listTasks({ parentId: attempt.task.id, limit: 1 })).length : 0;
    if (wantsSplit(attempt.task, subTasks)) {
      const split = await splitTask(orch, attempt, { signal: options.signal, sourceEnv: options.sourceEnv });
      return summary(split.task, split.note);
    }
    return pipeline(orch, attempt, options, summary);
  });
}

/** Where an attempt works: Orch's clone, the task's worktree and branch, and the environment its commands get. */
export interface AttemptWorkspace {
  clone: Clone;
  worktree: string;
  branch: string;
  /** The allow-listed environment with the slot's ports: what hooks and judge commands run with. */
  env: Record<string, string>;
  /** A pull request's rebase round stopped on conflicts in these files, left for the agent to resolve. */
  rebaseConflicts?: string[];
}

/**
 * Carries a claimed task on from the moment its agent stopped, exactly as `runTask` does after its own
 * agent step: leftovers committed, the run settled, judge, refinery, delivery, follow-ups, clean-up,
 * release. A pull worker's task takes this road once the worker exits. `workspace` makes the place the
 * agent left ready for those steps; a failure there is the attempt's failure like any other.
 */
export async function continueAfterAgent(
  orch: Orch,
  attempt: Attempt,
  outcome: AgentRunOutcome,
  workspace: () => Promise<AttemptWorkspace>,
  options: RunTaskOptions = {},
): Promise<TaskRunSummary> {
  return carryAttempt(orch, attempt, options, async (summary) => afterAgent(orch, attempt, await workspace(), outcome, options, summary));
}

/**
 * Makes the project's spare worktree for the next task while this one's agent works. Best effort:
 * without a spare the next task's worktree is made the slower way; a failure is recorded, not thrown.
 */
async function prepareSpare(orch: Orch, attempt: Attempt, clone: Clone): Promise<void> {
  const { project } = attempt;
  // Tasks starting together would each make a spare that the next one takes at once, a checkout more
  // each in line on the clone's lock: while other worktrees are waiting to be made, the last to start
  // makes it.
  if (worktreesWaiting(orch, project)) return;
  try {
    await withLock(orch.home, `clone:${project.name}`, () => prepareSpareWorktree(clone.path, worktreesDir(orch.home, project.name), clone.defaultBranch));
  } catch (error) {
    // A store that cannot take the event fails the attempt's own next step, which says so.
    await eventFor(orch, attempt)('workspace.spare_failed', { message: (error as Error).message.split('\n')[0] }).catch(() => undefined);
  }
}

type Summarize = (task: Task, note: string, merged?: string | null, delivery?: DeliveryResult | null) => TaskRunSummary;

/** Runs the rest of an attempt so that any failure becomes the attempt's failure, and the claim is always released. */
async function carryAttempt(orch: Orch, attempt: Attempt, options: RunTaskOptions, body: (summary: Summarize) => Promise<TaskRunSummary>): Promise<TaskRunSummary> {
  const summary: Summarize = (task, note, merged = null, delivery = null) => ({ task, runId: attempt.run.id, note, merged, delivery });
  try {
    return await body(summary);
  } catch (error) {
    // A full disk is the machine's condition, not the task's failure: the caller pauses dispatch.
    if (isStorageFull(error)) {
      await giveBackAttempt(orch, attempt, error as Error).catch(() => undefined);
      throw error;
    }
    // An unexpected failure (git, disk) is the attempt's failure: retried, never lost.
    const reason = `Orch could not finish the attempt: ${(error as Error).message.split('\n')[0]}`;
    return summary(await failAttempt(orch, attempt, reason, { endReason: 'step_failed', random: options.random }), reason);
  } finally {
    // Without room in the store the claim cannot be released now; recovery takes it when its lease ends.
    await endAttempt(orch, attempt).catch((error: unknown) => {
      if (!isStorageFull(error)) throw error;
    });
  }
}

const eventFor = (orch: Orch, attempt: Attempt) => (type: string, data: Record<string, unknown>) =>
  orch.store.appendEvent({ type, project: attempt.project.name, taskId: attempt.task.id, runId: attempt.run.id, data }, orch.now());

/** Runs one of the project's hooks in the attempt's worktree, with an event when it ran. */
const hookFor = (orch: Orch, attempt: Attempt, workspace: AttemptWorkspace) => async (name: HookName) => {
  const { project, task } = attempt;
  const result = await runHook(name, configuredHook(project.hooks, name), {
    cwd: workspace.worktree,
    env: workspace.env,
    timeoutMs: project.hooks.timeoutS * 1000,
    task: { id: task.id, title: task.title, branch: workspace.branch, worktree: workspace.worktree },
    sandbox: commandSandbox(orch, project, attempt.runDir, workspace.env, { trustedCheckout: name === 'after_create' }),
  });
  if (result.ran) await eventFor(orch, attempt)('hook.ran', { name, passed: result.passed, exitCode: result.exitCode, timedOut: result.timedOut, output: result.outputTail.slice(-2000) });
  return result;
};

async function pipeline(orch: Orch, attempt: Attempt, options: RunTaskOptions, summary: Summarize): Promise<TaskRunSummary> {
  const { project, task } = attempt;
  const event = eventFor(orch, attempt);
  const slotEnv = slotEnvironment(options.slot ?? 0, project.ports);

  // A fix round works on its pull request's branch, whatever the title says now.
  const branch = task.pullRequest?.branch ?? branchName(task.id, task.title);
  // Read from the store while git works: the prompt needs it, the workspace does not.
  const history = attemptHistory(orch.store, task.id, attempt.run.id);
  history.catch(() => undefined);
  // Counted while it waits for the clone's lock: no spare is made meanwhile (see prepareSpare).
  const { clone, worktree } = await makingWorktree(orch, project, () => taskWorkspace(orch, project, task.id, branch));
  await orch.store.updateRun(attempt.run.id, attempt.token, { worktree: worktree.path, branch }, orch.now(), { type: 'workspace.ready', data: { worktree: worktree.path, branch, from: worktree.from } });
  const workspace: AttemptWorkspace = { clone, worktree: worktree.path, branch, env: { ...agentBaseEnvironment(options.sourceEnv ?? process.env, []), ...slotEnv } };

  const hook = hookFor(orch, attempt, workspace);
  if (worktree.from === 'new_branch') {
    if (project.path && project.copyFiles.length > 0) {
      const copied = await copyUntrackedFiles(project.path, worktree.path, project.copyFiles);
      await event('workspace.copied', { copied: copied.copied, skipped: copied.skipped });
    }
    const created = await hook('after_create');
    if (!created.passed) return summary(await failAttempt(orch, attempt, hookFailure(created), { endReason: 'hook_failed' }), 'after_create hook failed');
  }
  const beforeRun = await hook('before_run');
  if (!beforeRun.passed) return summary(await failAttempt(orch, attempt, hookFailure(beforeRun), { endReason: 'hook_failed' }), 'before_run hook failed');

  // The worktree was kept, so a session Orch's crash interrupted can go on where it was.
  const resume = worktree.from === 'new_branch' ? null : await sessionResumeFor(orch, attempt);
  if (resume) await event('run.resuming', { sessionId: resume.sessionId, fromRun: resume.fromRunId });
  const { previous, lastFailure } = await history;
  // A fix round on a pull request: what failed there (checks, reviewers) leads the prompt, and the
  // agent goes on in the session that made the change when its CLI can.
  const fixRound = task.pullRequest ? await pendingFixRound(orch, task.id) : null;
  const continued = fixRound && !resume ? await sessionResumeFor(orch, attempt, { fixRound: true }) : null;
  if (continued) await event('run.continuing', { sessionId: continued.sessionId, fromRun: continued.fromRunId });
  const failure = [fixRound?.brief, lastFailure].filter(Boolean).join('\n\n') || null;
  if (fixRound?.fix === 'rebase') workspace.rebaseConflicts = (await startRebaseRound(worktree.path, clone.defaultBranch)).conflicts;
  if (workspace.rebaseConflicts?.length) await event('merge.conflict', { files: workspace.rebaseConflicts, pullRequest: task.pullRequest!.number });
  const prompt = workspace.rebaseConflicts?.length
    ? conflictResolutionPrompt(task, clone.defaultBranch, workspace.rebaseConflicts)
    : await promptFor(orch, attempt, { failure: resume ? null : failure, resume, cwd: worktree.path, previous });
  let spare: Promise<void> = Promise.resolve();
  const onSpawned = () => {
    spare = prepareSpare(orch, attempt, clone);
  };
  try {
    const outcome = await runAgent(orch, attempt, { cwd: worktree.path, prompt, signal: options.signal, sourceEnv: options.sourceEnv, extraEnv: slotEnv, resume: resume ?? continued, onSpawned });
    return await afterAgent(orch, attempt, workspace, outcome, options, summary);
  } finally {
    // Nothing of an attempt's keeps running after it returns.
    await spare;
  }
}

/** Everything after the agent step: commit, settle the run, judge, merge or propose, deliver, clean up. */
async function afterAgent(orch: Orch, attempt: Attempt, workspace: AttemptWorkspace, outcome: AgentRunOutcome, options: RunTaskOptions, summary: Summarize): Promise<TaskRunSummary> {
  const { project, task } = attempt;
  const { clone, worktree, branch, env } = workspace;
  const event = eventFor(orch, attempt);
  const hook = hookFor(orch, attempt, workspace);
  await hook('after_run');
  const unresolved = workspace.rebaseConflicts?.length && !(outcome.report.outcome === 'succeeded' && (await finishRebase(worktree, workspace.rebaseConflicts)));
  const committed = await commitLeftovers(worktree, task);
  if (committed) await event('workspace.committed', { commit: committed });
  // The branch against its base decides whether the agent changed anything, however the change got
  // there: left uncommitted, committed by the agent, or kept from an earlier attempt. A retry goes on
  // from the branch the judge failed, so the agent can fix what the judge found rather than start
  // over; an attempt that leaves that branch as it was is judged again, and the person who reads the
  // task in the end is told what still fails, not that the last agent changed nothing.
  const changed = await branchChanged(worktree, clone.defaultBranch);
  const settled = await settleAgentRun(orch, attempt, { ...outcome, changedFiles: changed }, options.random);
  if (TERMINAL_STATES.has(settled.task.state)) await removeStoppedWorktree(orch, attempt, workspace, changed);
  if (settled.task.state !== 'judging') return summary(settled.task, `agent run ${settled.run.outcome}: ${settled.decision.reason}`);
  if (unresolved) {
    const reason = `rebasing pull request #${task.pullRequest!.number} onto ${clone.defaultBranch} left conflicts in ${workspace.rebaseConflicts!.join(', ')} the agent could not settle`;
    return summary(await failAttempt(orch, attempt, reason, { endReason: 'conflict', escalate: true }), reason);
  }
  // Work that should change the code and did not is no success, whatever the agent said.
  if (task.role !== 'review' && task.role !== 'plan' && !changed) {
    const reason = 'the agent reported the task done, but its branch holds no change';
    return summary(await failAttempt(orch, attempt, reason, { endReason: 'no_change', random: options.random }), reason);
  }

  // The judge looks at the branch against the default branch it will land on, with the settings
  // committed there (never the person's uncommitted orch.yaml, nor one the agent changed).
  const mergeBase = () => git(worktree, ['merge-base', `refs/heads/${clone.defaultBranch}`, 'HEAD']);
  const settings = await judgeSettingsAt(orch, project, worktree, await mergeBase());
  const judge = async (): Promise<Verdict> => {
    const base = await mergeBase();
    const head = await git(worktree, ['rev-parse', 'HEAD']);
    const verdict = await judgeBranch({
      worktree,
      baseSha: base,
      headSha: head,
      settings,
      role: task.role,
      env,
      task,
      review: reviewer(orch, attempt, settings.review.agent, worktree, options),
      sandbox: commandSandbox(orch, project, attempt.runDir, env),
    });
    const diffStat = (await tryGit(worktree, ['diff', '--stat', `${base}..${head}`])).stdout;
    await writeFile(join(attempt.runDir, 'verdict.md'), renderVerdictMarkdown(verdict, { taskId: task.id, title: task.title, branch, base, diffStat }), { mode: 0o600 });
    await writeFile(join(attempt.runDir, 'diffstat.txt'), diffStat, { mode: 0o600 });
    // Kept for people reading the task later: a merged task's branch is deleted with its worktree.
    const diff = (await tryGit(worktree, ['diff', '--no-color', '--no-ext-diff', '--no-textconv', `${base}..${head}`])).stdout;
    await writeFile(join(attempt.runDir, SAVED_DIFF_FILE), truncateDiff(diff, MAX_DIFF_BYTES).diff, { mode: 0o600 });
    await event('judge.verdict', { passed: verdict.passed, summary: verdict.summary, checks: verdict.checks.map((c) => ({ name: c.name, passed: c.passed, skipped: c.skipped ?? false, detail: c.detail })) });
    return verdict;
  };
  const verdict = await judge();
  if (!verdict.passed) {
    // A change the reviewer keeps rejecting goes to a person after `rounds` tries, whatever attempts remain.
    const rejected = verdict.checks.every((c) => c.passed || c.name === 'review');
    const rounds = (await orch.store.listRuns({ taskId: task.id })).filter((r) => (r.result as { reviewRejected?: boolean } | null)?.reviewRejected).length + (rejected ? 1 : 0);
    const failed = await failAttempt(orch, attempt, failureForPrompt(verdict), {
      endReason: rejected ? 'review_rejected' : 'judge_failed',
      random: options.random,
      record: { reviewRejected: rejected },
      escalate: rejected && rounds >= settings.review.rounds,
    });
    return summary(failed, `judge: ${verdict.summary}`);
  }

  let task2 = await transition(orch, attempt, 'merge', verdict.summary);
  const removeKeepingBranch = async () => {
    // The branch stays in the clone (and on the remote): a fix round starts a fresh worktree from it.
    await hook('before_remove');
    await withLock(orch.home, `clone:${project.name}`, () => removeWorktree(clone.path, worktree, { deleteBranch: false }));
    await event('workspace.removed', { worktree, branch });
  };
  if (project.mergeStrategy === 'pr' && project.remote && task.pullRequest) {
    const agentSummary = (settled.run.result as { contract?: { summary?: string } | null } | null)?.contract?.summary ?? null;
    const update = await pushPullRequestFix(orch, attempt, { clonePath: clone.path, remote: project.remote, worktree, branch, tracker: options.tracker ?? null, agentSummary });
    if (!update.pushed && update.unchanged) {
      const reason = `the fix round left pull request #${task.pullRequest.number} as it was: ${update.message}`;
      return summary(await failAttempt(orch, attempt, reason, { endReason: 'no_change', random: options.random }), reason);
    }
    if (!update.pushed) {
      const reason = update.overtaken ? `someone else pushed to ${branch} since Orch last looked; the fix round was not pushed over it (${update.message})` : `pushing ${branch} to its pull request failed: ${update.message}`;
      return summary(await failAttempt(orch, attempt, reason, { endReason: 'push_failed', escalate: update.overtaken, random: options.random }), 'push failed');
    }
    task2 = await endRunThen(orch, attempt, 'pr_updated', 'propose', update.reason, { pullRequest: update.pullRequest });
    await removeKeepingBranch();
    return summary(task2, update.reason);
  }
  if (project.mergeStrategy === 'pr' && project.remote) {
    // The pr strategy: the judged branch goes to the remote for a pull request; a person (or the
    // tracker, once it opens and watches pull requests) takes it from there. Without a remote, direct.
    const pushed = await pushBranch(clone.path, project.remote, branch, { force: true });
    if (!pushed.delivered) return summary(await failAttempt(orch, attempt, `pushing ${branch} failed: ${pushed.message}`, { endReason: 'push_failed', random: options.random }), 'push failed');
    await event('merge.pushed', { remote: project.remote, branch });
    if (options.tracker?.openPullRequest) {
      const pr = await options.tracker.openPullRequest({ ref: task.externalRef, branch, base: clone.defaultBranch, title: task.title, body: pullRequestBody(task, verdict.summary, attempt.run.id) });
      await event('task.pull_request', { number: pr.number, url: pr.url, branch });
      const headSha = await git(worktree, ['rev-parse', 'HEAD']);
      const reason = `pull request #${pr.number} is open for review: ${pr.url} (merging it finishes the task)`;
      await createFollowUps(orch, attempt, settled.run.result);
      task2 = await endRunThen(orch, attempt, 'pr_opened', 'propose', reason, { pullRequest: { number: pr.number, url: pr.url, branch, headSha, checks: null, ciRounds: 0, reviewRounds: 0 } });
      await removeKeepingBranch();
      return summary(task2, reason);
    }
    const reason = `branch ${branch} pushed to ${project.remote}: open a pull request from it (no tracker of this project opens one)`;
    // The run did its part; what is left (opening the pull request) is a person's.
    return summary(await endRunThen(orch, attempt, 'branch_pushed', 'escalate', reason), reason);
  }
  // A project served from its remote lands there inside the merge (shared-remote.ts): the merge lock
  // then covers fetch, rebase, test and push on every host at once.
  // Each head about to land is named first (`merge.landing`): a recovery finishes the task only on
  // that record of this attempt, never on a branch an earlier attempt left behind.
  const onRemote = landsOnRemote(project);
  const landing = onRemote
    ? remoteLanding(orch, { project: project.name, remote: project.remote, clonePath: clone.path, branch: clone.defaultBranch, beforePush: (commit) => event('merge.landing', { commit, remote: project.remote }) })
    : landInClone(clone.path, clone.defaultBranch, (commit) => event('merge.landing', { commit }));
  const merged = await withSharedLock(orch, `merge:${project.name}`, () =>
    mergeWithResolution(orch, attempt, {
      clonePath: clone.path,
      worktree,
      defaultBranch: clone.defaultBranch,
      landing,
      refresh: async () => {
        await refreshClone(orch, project);
      },
      retest: settings.test
        ? async () => {
            const run = await runCommand(settings.test!, { cwd: worktree, env, timeoutMs: settings.timeoutS * 1000, sandbox: commandSandbox(orch, project, attempt.runDir, env) });
            return { passed: commandPassed(run), detail: `${describeCommand(settings.test!)} ${run.timedOut ? 'timed out' : `exited ${run.exitCode}`}\n${run.output.slice(-2000)}` };
          }
        : null,
    }, options, judge),
  );
  if (merged.kind !== 'merged') {
    if (merged.kind === 'conflict') {
      const reason = `merge conflict in ${merged.files.join(', ')} that the resolution attempt could not settle; the branch ${branch} and its worktree are kept`;
      task2 = await failAttempt(orch, attempt, reason, { endReason: 'conflict', escalate: true });
      return summary(task2, reason);
    }
    const reason = merged.kind === 'tests_failed' ? merged.detail : 'the default branch kept moving; will try again';
    return summary(await failAttempt(orch, attempt, reason, { endReason: 'merge_failed', random: options.random }), reason);
  }
  await event('merge.done', { commit: merged.commit, rebased: merged.rebased, rounds: merged.rounds, branch: clone.defaultBranch, ...(onRemote ? { remote: project.remote } : {}) });

  const delivery: DeliveryResult = onRemote ? { delivered: true } : await deliverMerged(orch, project, clone.path, clone.defaultBranch);
  await event(delivery.delivered ? 'delivery.done' : 'delivery.pending', delivery.delivered ? { branch: clone.defaultBranch } : { reason: delivery.reason, message: delivery.message });
  await createFollowUps(orch, attempt, settled.run.result);
  task2 = await endRunThen(orch, attempt, 'merged', 'finish', `merged as ${merged.commit.slice(0, 12)}`);
  await hook('before_remove');
  await withLock(orch.home, `clone:${project.name}`, () => removeWorktree(clone.path, worktree, { deleteBranch: true }));
  await event('workspace.removed', { worktree, branch });
  return summary(task2, `merged as ${merged.commit.slice(0, 12)}`, merged.commit, delivery);
}

async function transition(orch: Orch, attempt: Attempt, name: 'merge' | 'finish', reason: string): Promise<Task> {
  return orch.store.transaction(async (tx) => {
    const task = (await tx.getTask(attempt.task.id))!;
    return applyTransition(tx, task, name, { now: orch.now(), fence: attempt.token, reason });
  });
}

/** The run ends for `endReason` and, in the same transaction, its task makes the move that follows. */
async function endRunThen(orch: Orch, attempt: Attempt, endReason: RunEndReason, name: 'finish' | 'propose' | 'escalate', reason: string, patch: TaskPatch = {}): Promise<Task> {
  return orch.store.transaction(async (tx) => {
    const now = orch.now();
    await tx.updateRun(attempt.run.id, attempt.token, { endReason }, now, { type: 'run.completed', data: { endReason } });
    const task = (await tx.getTask(attempt.task.id))!;
    return applyTransition(tx, task, name, { now, fence: attempt.token, reason, patch, ...(patch.pullRequest ? { data: { pullRequest: patch.pullRequest.number } } : {}) });
  });
}

/** Commits whatever the agent left uncommitted, with a message naming the task (task text as one argv value). */
async function commitLeftovers(worktree: string, task: Task): Promise<string | null> {
  // One scan of the tree: stage everything, then ask whether anything is staged.
  await git(worktree, ['add', '-A']);
  if ((await tryGit(worktree, ['diff', '--cached', '--quiet'])).ok) return null;
  const title = task.title.replace(/\s+/g, ' ').slice(0, 200);
  await git(worktree, ['-c', 'user.name=Orch', '-c', 'user.email=orch@localhost', 'commit', '--quiet', '--no-verify', '-m', `${title}\n\nOrch task #${task.id}`]);
  return git(worktree, ['rev-parse', 'HEAD']);
}

/**
 * A task cancelled (or settled) while its agent ran leaves nothing behind: its worktree goes at once,
 * and its branch too unless it holds commits, which stay for a person to look at.
 */
async function removeStoppedWorktree(orch: Orch, attempt: Attempt, workspace: AttemptWorkspace, changed: boolean): Promise<void> {
  const { project } = attempt;
  await hookFor(orch, attempt, workspace)('before_remove');
  await withLock(orch.home, `clone:${project.name}`, () => removeWorktree(workspace.clone.path, workspace.worktree, { deleteBranch: !changed }));
  await eventFor(orch, attempt)('workspace.removed', { worktree: workspace.worktree, branch: workspace.branch, branchKept: changed });
}
