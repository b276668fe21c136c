import type { ProjectConfig } from '../config/schema.js';
import { OrchError } from '../core/errors.js';
import { reconcileWithIssue, TRACKER_BLOCK_KIND } from '../core/reconcile.js';
import { taskTextProblem } from '../core/task-limits.js';
import { TERMINAL_STATES, type Task } from '../core/types.js';
import { createGitHubTracker } from '../trackers/github.js';
import { createLinearTracker } from '../trackers/linear.js';
import { MarkdownQueueTracker } from '../trackers/markdown-queue.js';
import { TrackerError, type TrackedIssue, type Tracker } from '../trackers/tracker.js';
import type { Orch } from './context.js';
import { proposePushedBranches } from './pr-catch-all.js';
import { watchPullRequests } from './pr-watch.js';
import { addTask, cancelTask, holdTask, releaseTrackerHold } from './tasks.js';
import { TrackerReports } from './tracker-reports.js';
import { blockerTasks, heldOnlyByOwnDependencies } from './tracker-waits.js';
import { createGitHubRemote } from '../trackers/github-remote.js';

/** How long to leave a tracker alone after an error that did not say when to come back. */
const ERROR_BACKOFF_MS = 30_000;

/** What Orch remembers about one project's tracker between ticks (in memory: a restart syncs afresh, which is safe). */
interface TrackerLink {
  tracker: Tracker;
  /** The settings it was made from: a config reload that changes them makes a new one. */
  madeFrom: string;
  cursor: string | null;
  mentionsCursor: string | null;
  /** No call to the tracker before this time (its rate limit, or an error). */
  notBefore: number;
  nextPollAt: number;
  /** Stops the tracker's watch, for trackers that can be watched (the markdown queue). */
  stopWatching: (() => void) | null;
  /** What was last reported per task, so an unchanged task is not reported again. */
  reported: Map<number, string>;
  /** Why each refused issue was refused, so an issue seen again unchanged is not recorded again. */
  refused: Map<string, string>;
  /** Issues held while their task could not stop (being judged), by ref: held once it is back in the queue. */
  holds: Map<string, string>;
}

export interface TrackerSyncReport {
  project: string;
  created: number[];
  updated: number[];
  cancelled: number[];
  /** Put on hold because their issue is (a running agent stops, keeping its worktree). */
  held: number[];
  /** Their issue's hold was lifted: queued again, to go on from their worktree. */
  resumed: number[];
  finished: number[];
  reported: number;
  error: string | null;
}

/**
 * The tracker of a project's config, or null for local tasks. `onSkippedFile` hears of each markdown
 * queue file that cannot be read as a task, with the reason.
 */
export function createTracker(project: ProjectConfig, env: NodeJS.ProcessEnv, now: () => number, onSkippedFile?: (message: string) => void): Tracker | null {
  const config = project.tracker;
  switch (config.kind) {
    case 'github':
      return createGitHubTracker(config, { env, mergeStrategy: project.mergeStrategy, now });
    case 'markdown':
      return new MarkdownQueueTracker({ tracker: config, projectPath: project.path, now, onSkippedFile });
    case 'linear':
      return createLinearTracker(config, { env, now });
    case 'local':
      return createGitHubRemote(project, env, now);
  }
}

export interface TrackerSyncOptions {
  env?: NodeJS.ProcessEnv;
  /** Overrides every project's `tracker.poll_interval_s` (tests). */
  pollMs?: number;
  onReport?: (report: TrackerSyncReport) => void;
  /** A watched tracker saw a change: its project is due now, and the owner should tick soon (`scheduler.requestTick`). */
  onWake?: () => void;
  /** Tell the tracker of each move of a task as this process writes it, not only after each tick. */
  reportEachMove?: boolean;
}

/**
 * Mirrors each project's tracker into tasks, and tasks' progress back into the tracker. The scheduler
 * calls `syncDue` before it plans (so an issue opened a moment ago can start in the same tick) and
 * `reportChanges` after; each tracker is asked on its poll interval (`tracker.poll_interval_s`), at
 * once when a webhook says something changed or a watched tracker (the markdown queue) saw a change,
 * and never before its rate limit allows. A tracker that fails is left alone for a while and asked
 * again; nothing it returned is lost, because the cursor only moves on success.
 */
export class TrackerSync {
  private readonly links = new Map<string, TrackerLink>();
  /** Projects whose tracker could not be made, with the settings that failed (a fix in config.yaml retries). */
  private readonly broken = new Map<string, string>();
  private syncRequested = false;
  private closed = false;
  private readonly reports: TrackerReports;
  private readonly stopFollowing: () => void;

  constructor(
    private readonly orch: Orch,
    private readonly options: TrackerSyncOptions = {},
  ) {
    this.reports = new TrackerReports(orch, (project) => this.link(project));
    this.stopFollowing = options.reportEachMove ? orch.store.onTaskWritten((task) => this.reports.note(task)) : () => undefined;
  }

  /**
   * Stops watching every tracker and following moves; the owner calls it as it stops, after its last
   * `reportChanges`. Syncs and reports still work, unwatched.
   */
  close(): void {
    this.closed = true;
    this.stopFollowing();
    for (const link of this.links.values()) this.stopWatching(link);
  }

  private stopWatching(link: TrackerLink): void {
    link.stopWatching?.();
    link.stopWatching = null;
  }

  /** Starts the tracker's watch, when it has one: a change makes the project due and wakes the owner. */
  private startWatching(link: TrackerLink): void {
    if (this.closed || !link.tracker.watch) return;
    link.stopWatching = link.tracker.watch(() => {
      link.nextPollAt = 0;
      this.options.onWake?.();
    });
  }

  /** A webhook said something changed: ask every tracker on the next sync, whatever its interval. */
  requestSync(): void {
    this.syncRequested = true;
  }

  /** The tracker of a project, when it has one (the runner opens pull requests through it). */
  trackerOf(project: string): Tracker | null {
    return this.link(project)?.tracker ?? null;
  }

  private link(name: string): TrackerLink | null {
    const project = this.orch.config.projects[name];
    if (!project) return null;
    // The poll interval is read at each sync: changing it keeps the link (and its cursor).
    const madeFrom = JSON.stringify([{ ...project.tracker, pollIntervalS: undefined }, project.mergeStrategy, project.path, project.remote, project.pullRequests.github]);
    const existing = this.links.get(name);
    if (existing?.madeFrom === madeFrom) return existing;
    if (existing) {
      this.stopWatching(existing);
      this.links.delete(name);
    }
    if (this.broken.get(name) === madeFrom) return null;
    try {
      const onSkippedFile = (reason: string) => void this.orch.store.appendEvent({ type: 'tracker.skipped', project: name, data: { ref: null, reason } }, this.orch.now());
      const tracker = createTracker(project, this.options.env ?? process.env, this.orch.now, onSkippedFile);
      if (!tracker) return null;
      const link: TrackerLink = { tracker, madeFrom, cursor: null, mentionsCursor: null, notBefore: 0, nextPollAt: 0, stopWatching: null, reported: new Map(), refused: new Map(), holds: new Map() };
      this.links.set(name, link);
      this.startWatching(link);
      return link;
    } catch (error) {
      // A tracker that cannot be made (no token, no local path) is said once, not on every tick.
      const message = (error as Error).message;
      this.broken.set(name, madeFrom);
      void this.orch.store.appendEvent({ type: 'tracker.error', project: name, data: { message } }, this.orch.now());
      return null;
    }
  }

  /** Syncs every project whose tracker is due; returns what each did. */
  async syncDue(): Promise<TrackerSyncReport[]> {
    const forced = this.syncRequested;
    this.syncRequested = false;
    for (const [name, link] of this.links) {
      // A project taken out of the config: its tracker is watched no more.
      if (!this.orch.config.projects[name]) {
        this.stopWatching(link);
        this.links.delete(name);
      }
    }
    const reports: TrackerSyncReport[] = [];
    for (const name of Object.keys(this.orch.config.projects)) {
      const link = this.link(name);
      if (!link) continue;
      const now = this.orch.now();
      if (now < link.notBefore || (!forced && now < link.nextPollAt)) continue;
      const report = await this.syncProject(name, link);
      reports.push(report);
      this.options.onReport?.(report);
    }
    return reports;
  }

  private async syncProject(name: string, link: TrackerLink): Promise<TrackerSyncReport> {
    const report: TrackerSyncReport = { project: name, created: [], updated: [], cancelled: [], held: [], resumed: [], finished: [], reported: 0, error: null };
    const now = this.orch.now();
    const pollIntervalS = this.orch.config.projects[name]?.tracker.pollIntervalS;
    link.nextPollAt = now + (this.options.pollMs ?? (pollIntervalS ?? 0) * 1000);
    try {
      // Pull requests first: merging one closes its issue, which must finish the task, not cancel it.
      await watchPullRequests(this.orch, name, link.tracker, report);
      await proposePushedBranches(this.orch, name, link.tracker);
      const result = await link.tracker.sync(link.cursor);
      // Oldest change first, so tasks are numbered (and, at equal priority, run) in the order people wrote them.
      const issues = [...result.issues].sort((a, b) => a.updatedAt - b.updatedAt);
      for (const issue of issues) await this.mirrorOrSkip(name, link, issue, report);
      await this.mirrorWaiting(name, link, issues, report);
      if (link.cursor === null) await this.lookUpFollowed(name, link, issues, report);
      await this.applyPendingHolds(name, link, report);
      link.cursor = result.cursor;
      if (result.notBefore !== null) link.notBefore = result.notBefore;
      if (link.tracker.mentions) {
        const found = await link.tracker.mentions(link.mentionsCursor);
        for (const mention of found.mentions) await this.mirrorOrSkip(name, link, mention, report);
        link.mentionsCursor = found.cursor;
        if (found.notBefore !== null) link.notBefore = Math.max(link.notBefore, found.notBefore);
      }
    } catch (error) {
      report.error = (error as Error).message.split('\n')[0]!;
      const retryAfter = error instanceof TrackerError && error.retryAfterMs !== null ? error.retryAfterMs : ERROR_BACKOFF_MS;
      link.notBefore = this.orch.now() + retryAfter;
      await this.orch.store.appendEvent({ type: 'tracker.error', project: name, data: { message: report.error, retryAfterMs: retryAfter } }, this.orch.now());
    }
    if (report.created.length + report.updated.length + report.cancelled.length + report.held.length + report.resumed.length + report.finished.length > 0) {
      const { created, updated, cancelled, held, resumed, finished } = report;
      await this.orch.store.appendEvent({ type: 'tracker.synced', project: name, data: { created, updated, cancelled, held, resumed, finished } }, this.orch.now());
    }
    return report;
  }

  /**
   * Issues that wait on blockers seen later in the same sync: once those have tasks, they become tasks
   * waiting on them (again, for a chain), until a pass makes no new one.
   */
  private async mirrorWaiting(project: string, link: TrackerLink, issues: TrackedIssue[], report: TrackerSyncReport): Promise<void> {
    let waiting = issues.filter((issue) => issue.readyButForDependencies);
    while (waiting.length > 0) {
      const made = new Set((await this.orch.store.listTasks({ project, externalRefs: waiting.map((issue) => issue.ref) })).map((task) => task.externalRef));
      waiting = waiting.filter((issue) => !made.has(issue.ref));
      const before = report.created.length;
      for (const issue of waiting) await this.mirrorOrSkip(project, link, issue, report);
      if (report.created.length === before) return;
    }
  }

  /**
   * The first sync of a start lists only ready issues (GitHub, Linear): the open tasks' issues it did not
   * list are looked up, so one closed, held or deleted while Orch was down is reconciled now.
   */
  private async lookUpFollowed(project: string, link: TrackerLink, listed: TrackedIssue[], report: TrackerSyncReport): Promise<void> {
    if (!link.tracker.lookUp) return;
    const seen = new Set(listed.map((issue) => issue.ref));
    const open = (await this.orch.store.listTasks({ project, tracked: true })).filter((task) => !TERMINAL_STATES.has(task.state) && !seen.has(task.externalRef!));
    if (open.length === 0) return;
    const found = await link.tracker.lookUp(open.map((task) => task.externalRef!));
    for (const task of open) {
      const issue = found.get(task.externalRef!);
      if (issue === undefined) continue;
      if (issue !== null) {
        await this.mirrorOrSkip(project, link, issue, report);
        continue;
      }
      await cancelTask(this.orch.store, task.id, this.orch.now(), `its issue ${task.externalRef} is gone`);
      report.cancelled.push(task.id);
    }
  }

  /** Holds that came while a task's change was being judged, put on it once it is back in the queue. */
  private async applyPendingHolds(project: string, link: TrackerLink, report: TrackerSyncReport): Promise<void> {
    if (link.holds.size === 0) return;
    const tasks = await this.orch.store.listTasks({ project, externalRefs: [...link.holds.keys()] });
    for (const task of tasks) {
      const held = link.holds.get(task.externalRef!)!;
      const { decision, reason } = reconcileWithIssue(task, { closed: false, held, priority: task.priority });
      if (decision === 'stop_and_wait') {
        await holdTask(this.orch.store, task.id, this.orch.now(), reason, TRACKER_BLOCK_KIND);
        report.held.push(task.id);
      }
      if (decision === 'stop_and_wait' || TERMINAL_STATES.has(task.state) || task.state === 'blocked') link.holds.delete(task.externalRef!);
    }
  }

  /** An issue Orch cannot take as it is (say, an empty title) is skipped with a reason; the others go on. */
  private async mirrorOrSkip(project: string, link: TrackerLink, issue: TrackedIssue, report: TrackerSyncReport): Promise<void> {
    try {
      await this.mirror(project, link, issue, report);
    } catch (error) {
      if (!(error instanceof OrchError)) throw error;
      await this.refuse(project, link, issue, error.message);
    }
  }

  /**
   * Records once why an issue was not taken (a `tracker.skipped` event naming it): it is asked about
   * again on later syncs, and recorded again only when the reason changes.
   */
  private async refuse(project: string, link: TrackerLink, issue: TrackedIssue, reason: string): Promise<void> {
    if (link.refused.get(issue.ref) === reason) return;
    link.refused.set(issue.ref, reason);
    await this.orch.store.appendEvent({ type: 'tracker.skipped', project, data: { ref: issue.ref, url: issue.url, reason } }, this.orch.now());
  }

  /** One issue into the store: a new task, a changed one, or a task whose issue closed. */
  private async mirror(project: string, link: TrackerLink, issue: TrackedIssue, report: TrackerSyncReport): Promise<void> {
    const { store } = this.orch;
    const [task] = await store.listTasks({ project, externalRefs: [issue.ref] });
    if (!task) {
      // Mirrored, not taken: the issue is claimed only when its task starts (claimBeforeStart).
      if (issue.closed) return;
      const dependsOn = issue.ready ? [] : await blockerTasks(store, project, issue);
      if (dependsOn === null) return;
      // Refused before it is claimed: a queue file stays in incoming/ for a person to fix.
      const problem = taskTextProblem(issue);
      if (problem !== null) return this.refuse(project, link, issue, problem);
      link.refused.delete(issue.ref);
      const created = await addTask(store, { project, externalRef: issue.ref, title: issue.title, body: issue.body, labels: issue.labels, priority: issue.priority, role: issue.role ?? undefined, dependsOn }, this.orch.now());
      report.created.push(created.id);
      return;
    }
    const held = issue.held != null && !(await heldOnlyByOwnDependencies(store, project, task, issue)) ? issue.held : null;
    const { decision, reason } = reconcileWithIssue(task, { closed: issue.closed, held, priority: issue.priority });
    // A hold that cannot stop the task now (its change is being judged) waits for it to come back to the queue.
    if (held !== null && decision === 'keep_running' && !TERMINAL_STATES.has(task.state)) link.holds.set(issue.ref, held);
    else link.holds.delete(issue.ref);
    // The scheduler's reconciliation sees the moved task and stops its run, if one is going.
    if (decision === 'stop_and_cancel') {
      await cancelTask(store, task.id, this.orch.now(), `its issue ${issue.ref} was closed`);
      report.cancelled.push(task.id);
      return;
    }
    if (decision === 'stop_and_wait') {
      await holdTask(store, task.id, this.orch.now(), reason, TRACKER_BLOCK_KIND);
      report.held.push(task.id);
      return;
    }
    if (decision === 'resume') {
      await releaseTrackerHold(store, task.id, this.orch.now(), reason);
      report.resumed.push(task.id);
      return this.mirror(project, link, issue, report);
    }
    // A running attempt keeps the text it was given; only its place in the queue moves.
    if (task.state !== 'new' && task.state !== 'routed' && task.state !== 'blocked') {
      if (decision !== 'priority_changed' || TERMINAL_STATES.has(task.state)) return;
      await store.updateTask(task.id, { expectedVersion: task.version }, { priority: issue.priority }, this.orch.now(), { type: 'task.synced', data: { ref: issue.ref, fields: ['priority'] } });
      report.updated.push(task.id);
      return;
    }
    const patch = changedFields(task, issue);
    if (Object.keys(patch).length === 0) return;
    // An edit that would make the task one that can never run is not taken; the task keeps its text.
    const problem = taskTextProblem({ title: patch.title ?? task.title, body: patch.body ?? task.body, labels: patch.labels ?? task.labels });
    if (problem !== null) return this.refuse(project, link, issue, problem);
    link.refused.delete(issue.ref);
    await store.updateTask(task.id, { expectedVersion: task.version }, patch, this.orch.now(), { type: 'task.synced', data: { ref: issue.ref, fields: Object.keys(patch) } });
    report.updated.push(task.id);
  }

  /**
   * Takes a tracked task's issue just before its first run: the markdown queue moves the file to
   * claimed/ only now, so claimed/ means an agent works on it, never a task that waits. When another
   * taker got there first, the task is cancelled and its issue is theirs: Orch reports on it no more.
   * false: do not start the task (taken elsewhere, or the tracker could not be asked now).
   */
  async claimBeforeStart(task: Task): Promise<boolean> {
    const link = task.externalRef === null ? null : this.link(task.project);
    if (!link) return true;
    const ref = task.externalRef!;
    const { store } = this.orch;
    if (task.attempts > 0 || (await store.listEvents({ taskId: task.id, types: ['tracker.claimed'] })).length > 0) return this.stillOpen(task, link, ref);
    let taken: boolean;
    try {
      taken = await link.tracker.claim(ref);
    } catch (error) {
      const message = (error as Error).message.split('\n')[0]!;
      await store.appendEvent({ type: 'tracker.error', project: task.project, taskId: task.id, data: { message, retryAfterMs: null } }, this.orch.now());
      return false;
    }
    if (taken) {
      await store.appendEvent({ type: 'tracker.claimed', project: task.project, taskId: task.id, data: { ref } }, this.orch.now());
      return true;
    }
    await store.appendEvent({ type: 'tracker.lost', project: task.project, taskId: task.id, data: { ref } }, this.orch.now());
    await cancelTask(store, task.id, this.orch.now(), `its issue ${ref} was taken by another taker first`);
    return false;
  }

  /**
   * Before another attempt of a task already taken: where the tracker can say at no cost whether its
   * issue is closed (a queue file a person moved to failed/ while the last attempt ran, which the last
   * sync may not have seen), a closed issue cancels the task instead of running it again.
   */
  private async stillOpen(task: Task, link: TrackerLink, ref: string): Promise<boolean> {
    if (!link.tracker.isClosed) return true;
    const { store } = this.orch;
    let closed: boolean;
    try {
      closed = await link.tracker.isClosed(ref);
    } catch (error) {
      const message = (error as Error).message.split('\n')[0]!;
      await store.appendEvent({ type: 'tracker.error', project: task.project, taskId: task.id, data: { message, retryAfterMs: null } }, this.orch.now());
      return false;
    }
    if (!closed) return true;
    await cancelTask(store, task.id, this.orch.now(), `its issue ${ref} was closed`);
    return false;
  }

  /**
   * Tells each tracker about tasks whose state moved since it was last told: the catch-up after a tick
   * (moves written by another process) and at the end. With `reportEachMove`, moves this process
   * writes are told as they happen; this waits for those too.
   */
  async reportChanges(): Promise<void> {
    for (const name of Object.keys(this.orch.config.projects)) {
      const link = this.link(name);
      if (!link || this.orch.now() < link.notBefore) continue;
      for (const task of await this.orch.store.listTasks({ project: name, tracked: true })) this.reports.note(task);
    }
    await this.reports.settled();
  }
}

function changedFields(task: Task, issue: TrackedIssue) {
  const patch: { title?: string; body?: string; labels?: string[]; priority?: number } = {};
  if (issue.title.trim() && issue.title.trim() !== task.title) patch.title = issue.title.trim();
  if (issue.body !== task.body) patch.body = issue.body;
  if (JSON.stringify([...issue.labels].sort()) !== JSON.stringify([...task.labels].sort())) patch.labels = [...new Set(issue.labels)];
  if (issue.priority !== task.priority) patch.priority = issue.priority;
  return patch;
}
