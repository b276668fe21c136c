import type { AutoMerge, PullRequestCheck, PullRequestSnapshot } from '../core/pull-request-watch.js';
import type { EpochMs, Role, TaskState } from '../core/types.js';

/**
 * The tracker port: where a project's work comes from and where Orch reports what it is doing.
 * One file per implementation (github.ts, linear.ts, markdown-queue.ts); local tasks need none.
 * A tracker never touches Orch's store: the engine (engine/tracker-sync.ts) mirrors what `sync`
 * returns into tasks and calls `report` as tasks move. Every method may throw TrackerError; a
 * failure is retried on a later tick and never loses a task.
 */

/** One issue as its tracker shows it, already reduced to what Orch needs. */
export interface TrackedIssue {
  /** Stable identity in the tracker, unique across trackers: `github:owner/name#12`, `linear:ENG-12`, `queue:0007-fix-login.md`. */
  ref: string;
  title: string;
  body: string;
  labels: string[];
  /** Higher runs first. */
  priority: number;
  /** From the tracker's own field or a `role:<name>` label; null: the default (implement). */
  role: Role | null;
  /** Refs of issues this one waits for (dependencies, or sub-issues of a parent). */
  dependsOn: string[];
  /** Ref of the parent issue, when the tracker has sub-issues. */
  parent: string | null;
  /**
   * Whether the tracker considers it open and ready for work (not blocked, not waiting on another).
   * Pull requests and items by authors the config does not allow are not returned at all.
   */
  ready: boolean;
  /**
   * Open and ready but for open blockers (`dependsOn`): Orch makes the task at once, waiting on its
   * blockers' tasks, so it starts the moment they are done rather than at the next sync. Absent: false.
   */
  readyButForDependencies?: boolean;
  /** Closed, deleted or moved out of Orch's reach: a running attempt should stop. */
  closed: boolean;
  /**
   * Open, but a person says not now, and why: a `blocked` label, an open blocker, moved to a state that
   * is neither ready nor one Orch moves it through. A running attempt stops and keeps its worktree; the
   * task goes on when this clears. Absent or null: nothing holds it.
   */
  held?: string | null;
  url: string | null;
  updatedAt: EpochMs;
}

/** What one sync found. */
export interface SyncResult {
  /** Issues new or changed since the cursor (all of them on a first sync). */
  issues: TrackedIssue[];
  /** Pass back on the next sync for an incremental one. */
  cursor: string | null;
  /** Set when the tracker asked Orch to slow down: do not sync again before this time. */
  notBefore: EpochMs | null;
}

/** What Orch tells the tracker about a task. */
export interface StatusReport {
  state: TaskState;
  /** One or two sentences for people: what happened, what is next. */
  summary: string;
  agent: string | null;
  complexity: string | null;
  attempts: number;
  costUsd: number;
  /** A pull request opened for the task, if any. */
  pullRequestUrl: string | null;
}

export interface PullRequestRequest {
  /** The task's issue, which the pull request closes; null for a task that has none (a local task). */
  ref: string | null;
  branch: string;
  base: string;
  title: string;
  body: string;
}

export interface PullRequestInfo {
  url: string;
  number: number;
  merged: boolean;
  closed: boolean;
}

/** Someone asked Orch for work by mentioning it (`@orch …`) in a comment. */
export interface MentionRequest extends TrackedIssue {
  /** The issue or pull request the comment is on. */
  issueRef: string;
  /** Who wrote the comment. */
  author: string;
}

/** What one look for mentions found. */
export interface MentionsResult {
  /** Each comment once: its ref names the comment (`github:owner/name#12/comment-99`). */
  mentions: MentionRequest[];
  /** Pass back on the next call. */
  cursor: string | null;
  /** Set when the tracker asked Orch to slow down: do not look again before this time. */
  notBefore: EpochMs | null;
}

export interface Tracker {
  readonly kind: 'github' | 'linear' | 'markdown';
  /** Ready and changed issues since `cursor`. */
  sync(cursor: string | null, signal?: AbortSignal): Promise<SyncResult>;
  /**
   * Takes the issue for Orch as its task first starts, where the tracker has a notion of it (the
   * markdown queue moves the file to claimed/). false: someone else has it; leave the issue alone.
   */
  claim(ref: string): Promise<boolean>;
  /** Mirrors the task's status: labels, one marker comment updated in place, the issue's state. */
  report(ref: string, status: StatusReport): Promise<void>;
  /** Opens (or finds the already open) pull request for a task's branch. Trackers without PRs throw. */
  openPullRequest?(request: PullRequestRequest): Promise<PullRequestInfo>;
  /** Files a task that came from no tracker as a new issue there; the task then follows that issue. */
  publish?(issue: { title: string; body: string; labels: string[] }): Promise<{ ref: string; url: string }>;
  /** The pull request's current state, so a merged PR can finish its task. */
  pullRequest?(number: number): Promise<PullRequestInfo>;
  /** An open pull request's checks, reviews and merge, for trackers that host pull requests. */
  readonly pulls?: PullRequestWatch;
  /** Comments mentioning Orch since `cursor`, from people allowed to ask; trackers without comments leave it out. */
  mentions?(cursor: string | null, signal?: AbortSignal): Promise<MentionsResult>;
  /**
   * Calls `onChange` soon after something changes at the source, so Orch syncs at once rather than at
   * its next poll; returns the function that stops watching. For trackers whose changes can be seen
   * where Orch runs (the markdown queue's folders). Watching that fails leaves the poll to notice.
   */
  watch?(onChange: () => void): () => void;
  /**
   * These issues as they are now (null: gone — deleted, or no longer visible), for trackers whose first
   * sync lists only ready issues: after a start Orch asks for those its open tasks follow, so a close or
   * hold made while it was down is not missed. Refs not this tracker's to look up are left out.
   */
  lookUp?(refs: readonly string[], signal?: AbortSignal): Promise<Map<string, TrackedIssue | null>>;
  /**
   * Whether the issue is closed right now, asked just before a task's next attempt starts, so a close
   * the last sync has not seen yet is not run over. For trackers where a look is free (a local folder);
   * the others are trusted to their next sync.
   */
  isClosed?(ref: string): Promise<boolean>;
}

/** What a fix prompt says about one failing check. */
export interface CheckFailure {
  name: string;
  url: string | null;
  /** The step of the job that failed, when the check says. */
  step: string | null;
  /** The end of the job's log, or the check's own output. */
  logTail: string | null;
}

/** Watching and acting on an open pull request (engine/pr-watch.ts decides when). */
export interface PullRequestWatch {
  /** One look: state, mergeability, head, its checks, reviews and review threads; `reviewers` (empty: the repository's people) may ask for changes. */
  look(number: number, reviewers: readonly string[], signal?: AbortSignal): Promise<PullRequestSnapshot>;
  /** What the fix prompt needs about each failing check. */
  failures(checks: readonly PullRequestCheck[]): Promise<CheckFailure[]>;
  rerunFailedJobs(workflowRunIds: readonly number[]): Promise<void>;
  /** One comment on the pull request: a round's summary. */
  reply(number: number, body: string): Promise<void>;
  resolveThreads(number: number, threadIds: readonly string[]): Promise<void>;
  /** Merges the head `sha` (refused when the head moved meanwhile). */
  merge(number: number, method: AutoMerge, sha: string): Promise<void>;
}

/** A tracker call that failed; `retryAfterMs` set when the tracker said when to come back. */
export class TrackerError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
    this.name = 'TrackerError';
  }
}
