// GitHub issues as a tracker. sync lists the issues the config selects (labels, assignee, authors) with
// an incremental `since` cursor and an ETag, so a quiet repository costs nothing; it works out which are
// ready (no `blocked` label, no open sub-issues, no open issue named on a `Depends on` / `Blocked by`
// line) and looks again at those still waiting each time, since a dependency closing does not change
// the issue that waits for it. report mirrors a task's state onto the issue, openPullRequest and
// pullRequest serve the `pr` merge strategy, mentions turns `@orch` comments into requests.
// When GitHub's rate limit is spent, sync returns what it has with `notBefore` and keeps its cursor, so
// nothing is lost; the other methods throw a TrackerError carrying `retryAfterMs`.

import type { GitHubTrackerConfig } from '../config/index.js';
import type { MergeStrategy } from '../core/types.js';
import {
  dependencyRefs,
  hasBlockedLabel,
  issueRef,
  labelChanges,
  labelNames,
  mentionStatusMarker,
  parseIssueRef,
  parseTaskRef,
  isStatusLabel,
  priorityFromLabels,
  refFromApiUrl,
  repoFromApiUrl,
  roleFromLabels,
  STATUS_MARKER,
  statusComment,
  withClosingKeyword,
  withMentionLink,
  type GitHubComment,
  type GitHubIssue,
} from './github-issues.js';
import { readMentions } from './github-mentions.js';
import { GitHubPulls } from './github-pulls.js';
import { GitHubRateLimitError, GitHubRest, isNotFound, latest } from './github-rest.js';
import {
  TrackerError,
  type MentionsResult,
  type PullRequestInfo,
  type PullRequestRequest,
  type StatusReport,
  type SyncResult,
  type TrackedIssue,
  type Tracker,
} from './tracker.js';

export interface GitHubTrackerOptions {
  /** owner/name */
  repo: string;
  /** Only issues carrying all of these. */
  labels?: string[];
  /** Only issues assigned to this login (`*`: to anyone, `none`: to no one); null: any. */
  assignee?: string | null;
  /** Only issues and mentions by these logins; empty: issues by anyone, mentions by the repository's people. */
  authors?: string[];
  token: string;
  /** REST API root. Default https://api.github.com. */
  apiUrl?: string;
  /** Close the issue when its task is done (direct merges); with pull requests their `Closes #N` does it. */
  closeWhenDone?: boolean;
  now?: () => number;
}

interface SyncCursor {
  /** The newest `updated_at` seen: the next sync asks for issues updated since then. */
  since: string | null;
  /** ETag of the first page asked for with `since`, to ask again conditionally. */
  etag: string | null;
  /** Issue numbers waiting on others, with what they waited on when last reported. */
  waiting: Record<string, string[]>;
}

/** The tracker for a project's `tracker: {kind: github}`, its token read from the variable the config names. */
export function createGitHubTracker(
  config: GitHubTrackerConfig,
  options: { env: NodeJS.ProcessEnv; mergeStrategy: MergeStrategy; now?: () => number },
): GitHubTracker {
  const token = options.env[config.tokenEnv];
  if (!token) throw new TrackerError(`GitHub tracker for ${config.repo}: no token in $${config.tokenEnv}`);
  return new GitHubTracker({
    repo: config.repo,
    labels: config.labels,
    assignee: config.assignee,
    authors: config.authors,
    token,
    apiUrl: config.apiUrl,
    closeWhenDone: options.mergeStrategy === 'direct',
    now: options.now,
  });
}

export class GitHubTracker implements Tracker {
  readonly kind = 'github' as const;
  private readonly rest: GitHubRest;
  readonly pulls: GitHubPulls;
  private readonly owner: string;
  private readonly name: string;
  private readonly labels: string[];
  private readonly authors: string[];
  private readonly now: () => number;
  /** Each status comment (an issue's, keyed by its ref; a mention's reply, by the mention's), once found or made. */
  private readonly statusComments = new Map<string, { id: number; body: string }>();
  /** Reports on one issue run one at a time, so two never both create a status comment. */
  private readonly reporting = new Map<number, Promise<void>>();

  constructor(private readonly options: GitHubTrackerOptions) {
    const [owner, name] = options.repo.split('/');
    if (!owner || !name) throw new TrackerError(`GitHub repository must be owner/name, got "${options.repo}"`);
    this.owner = owner;
    this.name = name;
    this.labels = options.labels ?? [];
    this.authors = options.authors ?? [];
    this.now = options.now ?? Date.now;
    this.rest = new GitHubRest({ token: options.token, baseUrl: (options.apiUrl ?? 'https://api.github.com').replace(/\/+$/, ''), now: this.now });
    this.pulls = new GitHubPulls(this.rest, this.repoParams);
  }

  private get repo(): string {
    return `${this.owner}/${this.name}`;
  }

  private get repoParams() {
    return { owner: this.owner, repo: this.name };
  }

  // ------------------------------------------------------------------ sync

  async sync(cursor: string | null, signal?: AbortSignal): Promise<SyncResult> {
    const previous = parseSyncCursor(cursor);
    const issues: TrackedIssue[] = [];
    const waiting = { ...previous.waiting };
    const listing = await this.changedIssues(previous, signal);
    let stoppedBy = listing.stoppedBy;
    try {
      const candidates = listing.issues.filter((issue) => !issue.pull_request && this.authorAllowed(issue));
      const listed = new Map(candidates.map((issue) => [this.refOf(issue), issue]));
      for (const issue of candidates) {
        const tracked = await this.track(issue, listed, signal);
        issues.push(tracked);
        noteWaiting(waiting, issue.number, tracked);
      }
      const seen = new Set(listing.issues.map((issue) => String(issue.number)));
      for (const number of seen) if (!listed.has(issueRef(this.repo, Number(number)))) delete waiting[number];
      if (!stoppedBy) {
        for (const [number, before] of Object.entries(previous.waiting)) {
          if (seen.has(number)) continue;
          const tracked = await this.recheck(Number(number), listed, signal);
          if (!tracked) {
            delete waiting[number];
            continue;
          }
          noteWaiting(waiting, Number(number), tracked);
          if (tracked.closed || !sameRefs(before, tracked.dependsOn)) issues.push(tracked);
        }
      }
    } catch (error) {
      if (!(error instanceof GitHubRateLimitError)) throw error;
      stoppedBy = error;
    }
    if (stoppedBy) {
      // What was read is returned; the cursor stays, so the next sync reads the rest again.
      return { issues, cursor, notBefore: latest(this.now() + (stoppedBy.retryAfterMs ?? 0), this.rest.notBefore) };
    }
    const newest = listing.issues.reduce<string | null>((max, issue) => (max === null || issue.updated_at > max ? issue.updated_at : max), previous.since);
    // The ETag belongs to the request made with `since`; it only helps while `since` stays the same.
    const next: SyncCursor = { since: newest, etag: newest === previous.since ? (listing.etag ?? previous.etag) : null, waiting };
    return { issues, cursor: JSON.stringify(next), notBefore: this.rest.notBefore };
  }

  /**
   * Issues (and pull requests) changed since the cursor, newest first; none when GitHub answers 304.
   * A rate limit met between pages ends the list early, with what was read so far.
   */
  private async changedIssues(
    previous: SyncCursor,
    signal?: AbortSignal,
  ): Promise<{ issues: GitHubIssue[]; etag: string | null; stoppedBy: GitHubRateLimitError | null }> {
    // Newest first: an issue changing while the pages are read moves to page one, which only repeats an
    // issue on a later page, never skips one (oldest first would).
    const params: Record<string, unknown> = {
      ...this.repoParams,
      state: previous.since === null ? 'open' : 'all',
      sort: 'updated',
      direction: 'desc',
      per_page: 100,
    };
    if (this.labels.length > 0) params.labels = this.labels.join(',');
    if (this.options.assignee) params.assignee = this.options.assignee;
    if (previous.since !== null) params.since = previous.since;
    const issues: GitHubIssue[] = [];
    let etag: string | null = null;
    try {
      let page = await this.rest.page<GitHubIssue[]>('GET /repos/{owner}/{repo}/issues', params, previous.etag, signal);
      if (page.notModified) return { issues, etag: previous.etag, stoppedBy: null };
      etag = page.etag;
      issues.push(...page.data);
      while (page.next) {
        page = await this.rest.page<GitHubIssue[]>(page.next, {}, null, signal);
        issues.push(...page.data);
      }
      return { issues, etag, stoppedBy: null };
    } catch (error) {
      if (!(error instanceof GitHubRateLimitError)) throw error;
      return { issues, etag, stoppedBy: error };
    }
  }

  /** A waiting issue looked at again; null when it is gone or no longer Orch's. */
  async lookUp(refs: readonly string[], signal?: AbortSignal): Promise<Map<string, TrackedIssue | null>> {
    const found = new Map<string, TrackedIssue | null>();
    for (const ref of refs) {
      const parsed = parseTaskRef(ref);
      // A mention's task follows its comment, not the issue's state.
      if (!parsed || parsed.commentId !== null || parsed.repo.toLowerCase() !== this.repo.toLowerCase()) continue;
      found.set(ref, await this.recheck(parsed.number, new Map(), signal));
    }
    return found;
  }

  private async recheck(number: number, listed: Map<string, GitHubIssue>, signal?: AbortSignal): Promise<TrackedIssue | null> {
    try {
      const issue = await this.rest.cachedGet<GitHubIssue>('GET /repos/{owner}/{repo}/issues/{issue_number}', { ...this.repoParams, issue_number: number }, signal);
      if (issue.pull_request || !this.authorAllowed(issue)) return null;
      return await this.track(issue, listed, signal);
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  private async track(issue: GitHubIssue, listed: Map<string, GitHubIssue>, signal?: AbortSignal): Promise<TrackedIssue> {
    // Orch's own status labels are not the task's: read back, they would change it at every report.
    const labels = labelNames(issue).filter((label) => !isStatusLabel(label));
    const closed = issue.state !== 'open';
    const dependsOn = closed ? [] : await this.openDependencies(issue, listed, signal);
    const parent = issue.parent_issue_url ? refFromApiUrl(issue.parent_issue_url) : null;
    return {
      ref: this.refOf(issue),
      title: issue.title,
      body: issue.body ?? '',
      labels,
      priority: priorityFromLabels(labels),
      role: roleFromLabels(labels),
      dependsOn,
      parent: parent ? issueRef(this.sameRepoAsConfigured(parent.repo), parent.number) : null,
      ready: !closed && !hasBlockedLabel(labels) && dependsOn.length === 0,
      readyButForDependencies: !closed && !hasBlockedLabel(labels) && dependsOn.length > 0,
      closed,
      held: closed ? null : hasBlockedLabel(labels) ? 'it carries the blocked label' : dependsOn.length > 0 ? `it waits for ${dependsOn.join(', ')}` : null,
      url: issue.html_url,
      updatedAt: Date.parse(issue.updated_at),
    };
  }

  /** Refs of the open sub-issues and the open issues named on dependency lines. */
  private async openDependencies(issue: GitHubIssue, listed: Map<string, GitHubIssue>, signal?: AbortSignal): Promise<string[]> {
    const refs: string[] = [];
    const summary = issue.sub_issues_summary;
    if (summary && summary.total > summary.completed) {
      const subIssues = await this.rest.all<GitHubIssue>(
        'GET /repos/{owner}/{repo}/issues/{issue_number}/sub_issues',
        { ...this.repoParams, issue_number: issue.number },
        signal,
      );
      for (const sub of subIssues) if (sub.state === 'open') refs.push(this.refOf(sub));
    }
    const own = this.refOf(issue);
    for (const written of dependencyRefs(issue.body ?? '', this.repo)) {
      const target = parseIssueRef(written);
      const ref = target ? issueRef(this.sameRepoAsConfigured(target.repo), target.number) : written;
      if (ref === own || refs.includes(ref)) continue;
      if (await this.isOpen(ref, listed, signal)) refs.push(ref);
    }
    return refs;
  }

  private async isOpen(ref: string, listed: Map<string, GitHubIssue>, signal?: AbortSignal): Promise<boolean> {
    const known = listed.get(ref);
    if (known) return known.state === 'open';
    const target = parseIssueRef(ref);
    if (!target) return false;
    const [owner, repo] = target.repo.split('/');
    try {
      const issue = await this.rest.cachedGet<GitHubIssue>('GET /repos/{owner}/{repo}/issues/{issue_number}', { owner, repo, issue_number: target.number }, signal);
      return issue.state === 'open';
    } catch (error) {
      // A dependency that does not exist (or that the token cannot see) cannot be waited for.
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  private authorAllowed(issue: GitHubIssue): boolean {
    if (this.authors.length === 0) return true;
    const login = issue.user?.login.toLowerCase();
    return login !== undefined && this.authors.some((author) => author.toLowerCase() === login);
  }

  private refOf(issue: Pick<GitHubIssue, 'number' | 'repository_url'>): string {
    return issueRef(this.sameRepoAsConfigured(repoFromApiUrl(issue.repository_url) ?? this.repo), issue.number);
  }

  /** Refs spell this repository as the config does, whatever case GitHub's URLs use, so they stay stable. */
  private sameRepoAsConfigured(repo: string): string {
    return repo.toLowerCase() === this.repo.toLowerCase() ? this.repo : repo;
  }

  // ------------------------------------------------------------------ claim and report

  /** An open issue (not a pull request) is Orch's to take, and so is a mention in a comment on one. */
  async claim(ref: string): Promise<boolean> {
    const { number } = this.ownRef(ref);
    try {
      const issue = await this.rest.cachedGet<GitHubIssue>('GET /repos/{owner}/{repo}/issues/{issue_number}', { ...this.repoParams, issue_number: number });
      return issue.state === 'open' && !issue.pull_request;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  /**
   * An issue's task: its status labels, one status comment and, once done, the issue closed. A mention's
   * task: one reply to the asking comment, edited in place; the issue's labels and state are not its to
   * change, the issue may hold more than that one request.
   */
  async report(ref: string, status: StatusReport): Promise<void> {
    const { number, commentId } = this.ownRef(ref);
    const earlier = this.reporting.get(number) ?? Promise.resolve();
    const write = () => {
      if (commentId === null) return this.writeReport(number, status);
      const marker = mentionStatusMarker(commentId);
      return this.writeStatusComment(number, ref, marker, statusComment(status, marker));
    };
    const current = earlier.catch(() => undefined).then(write);
    this.reporting.set(number, current);
    try {
      await current;
    } finally {
      if (this.reporting.get(number) === current) this.reporting.delete(number);
    }
  }

  private async writeReport(number: number, status: StatusReport): Promise<void> {
    const issueParams = { ...this.repoParams, issue_number: number };
    const issue = await this.rest.cachedGet<GitHubIssue>('GET /repos/{owner}/{repo}/issues/{issue_number}', issueParams);
    const { add, remove } = labelChanges(labelNames(issue), status, this.labels);
    for (const label of remove) {
      try {
        await this.rest.send('DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}', { ...issueParams, name: label });
      } catch (error) {
        if (!isNotFound(error)) throw error; // someone removed it already
      }
    }
    if (add.length > 0) await this.rest.send('POST /repos/{owner}/{repo}/issues/{issue_number}/labels', { ...issueParams, labels: add });
    await this.writeStatusComment(number, issueRef(this.repo, number), STATUS_MARKER, statusComment(status));
    if (status.state === 'done' && (this.options.closeWhenDone ?? true) && issue.state === 'open') {
      await this.rest.send('PATCH /repos/{owner}/{repo}/issues/{issue_number}', { ...issueParams, state: 'closed', state_reason: 'completed' });
    }
  }

  /** One status comment per ref: found by its marker (also after a restart), then edited in place. */
  private async writeStatusComment(number: number, ref: string, marker: string, body: string): Promise<void> {
    const issueParams = { ...this.repoParams, issue_number: number };
    let known = this.statusComments.get(ref);
    if (!known) {
      const comments = await this.rest.all<GitHubComment>('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', issueParams);
      const found = comments.find((comment) => (comment.body ?? '').trimStart().startsWith(marker));
      if (found) known = { id: found.id, body: found.body ?? '' };
    }
    if (known?.body === body) {
      this.statusComments.set(ref, known);
      return;
    }
    if (known) {
      try {
        await this.rest.send('PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}', { ...this.repoParams, comment_id: known.id, body });
        this.statusComments.set(ref, { id: known.id, body });
        return;
      } catch (error) {
        if (!isNotFound(error)) throw error;
        // Someone deleted it: write a new one.
      }
    }
    const created = await this.rest.send<GitHubComment>('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { ...issueParams, body });
    this.statusComments.set(ref, { id: created.id, body });
  }

  // ------------------------------------------------------------------ pull requests

  async openPullRequest(request: PullRequestRequest): Promise<PullRequestInfo> {
    const linked = request.ref === null ? null : this.ownRef(request.ref);
    const body = linked === null ? request.body : linked.commentId === null ? withClosingKeyword(request.body, linked.number) : withMentionLink(request.body, linked.number, linked.commentId);
    return this.pulls.open({ ...request, body });
  }

  async publish(issue: { title: string; body: string; labels: string[] }): Promise<{ ref: string; url: string }> {
    // The config's labels make it one of Orch's issues, so the sync finds it and keeps it linked.
    const labels = [...new Set([...this.options.labels ?? [], ...issue.labels])];
    const created = await this.rest.send<GitHubIssue>('POST /repos/{owner}/{repo}/issues', { ...this.repoParams, title: issue.title, body: issue.body, labels });
    return { ref: issueRef(this.options.repo, created.number), url: created.html_url };
  }

  pullRequest(number: number): Promise<PullRequestInfo> {
    return this.pulls.info(number);
  }

  // ------------------------------------------------------------------ mentions

  mentions(cursor: string | null, signal?: AbortSignal): Promise<MentionsResult> {
    return readMentions({ rest: this.rest, repoParams: this.repoParams, authors: this.authors, now: this.now, sameRepoAsConfigured: (repo) => this.sameRepoAsConfigured(repo) }, cursor, signal);
  }

  // ------------------------------------------------------------------ helpers

  /** The issue (and, for a mention, the comment) a ref names in this tracker's repository; anything else is a caller's mistake. */
  private ownRef(ref: string): { number: number; commentId: number | null } {
    const parsed = parseTaskRef(ref);
    if (!parsed || parsed.repo.toLowerCase() !== this.repo.toLowerCase()) {
      throw new TrackerError(`not an issue of ${this.repo}: ${ref}`);
    }
    return { number: parsed.number, commentId: parsed.commentId };
  }
}

function parseSyncCursor(cursor: string | null): SyncCursor {
  const empty: SyncCursor = { since: null, etag: null, waiting: {} };
  if (!cursor) return empty;
  try {
    const parsed = JSON.parse(cursor) as Partial<SyncCursor>;
    return {
      since: typeof parsed.since === 'string' ? parsed.since : null,
      etag: typeof parsed.etag === 'string' ? parsed.etag : null,
      waiting: typeof parsed.waiting === 'object' && parsed.waiting !== null ? parsed.waiting : {},
    };
  } catch {
    return empty; // an unreadable cursor costs one full sync, nothing more
  }
}

function noteWaiting(waiting: Record<string, string[]>, number: number, tracked: TrackedIssue): void {
  if (!tracked.closed && tracked.dependsOn.length > 0) waiting[String(number)] = tracked.dependsOn;
  else delete waiting[String(number)];
}

function sameRefs(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((ref) => b.includes(ref));
}
