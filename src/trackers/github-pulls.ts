// An open pull request on GitHub, as Orch watches and acts on it: one look (the pull request, the check
// runs and commit statuses of its head, reviews, review comments and threads), the failing checks'
// details (an Actions job's failing step and the tail of its log, another check's own output), re-running
// failed jobs, one summary reply per round, resolving threads (GraphQL only), and merging. Reads go
// through conditional requests, so looking at an unchanged pull request costs no rate limit.

import type { AutoMerge, MergeableState, PullRequestCheck, PullRequestReview, PullRequestSnapshot, ReviewState, ReviewThread } from '../core/pull-request-watch.js';
import type { GitHubRest } from './github-rest.js';
import { isValidationFailure } from './github-rest.js';
import type { GitHubPull } from './github-issues.js';
import { TrackerError, type CheckFailure, type PullRequestInfo, type PullRequestWatch } from './tracker.js';

interface GitHubPullDetail {
  number: number;
  state: string;
  merged?: boolean;
  merged_at: string | null;
  mergeable_state?: string;
  head: { sha: string };
  user: { login: string } | null;
}

interface GitHubCheckRun {
  name: string;
  status: string;
  conclusion: string | null;
  html_url: string | null;
  details_url: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
}

interface GitHubStatus {
  context: string;
  state: string;
  description: string | null;
  target_url: string | null;
}

interface GitHubReview {
  id: number;
  user: { login: string } | null;
  state: string;
  body: string | null;
  author_association: string;
}

interface GitHubReviewComment {
  id: number;
  user: { login: string } | null;
  body: string;
  author_association: string;
}

interface GitHubJob {
  id: number;
  steps?: { name: string; conclusion: string | null }[];
}

interface ThreadsAnswer {
  repository: { pullRequest: { reviewThreads: { nodes: { id: string; isResolved: boolean; path: string | null; line: number | null; comments: { nodes: { fullDatabaseId: string | null }[] } }[] } } };
}

const THREADS_QUERY = `query Threads($owner: String!, $name: String!, $number: Int!) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: 100) { nodes { id isResolved path line comments(first: 100) { nodes { fullDatabaseId } } } }
    }
  }
}`;

const RESOLVE_MUTATION = 'mutation Resolve($id: ID!) { resolveReviewThread(input: { threadId: $id }) { thread { id isResolved } } }';

/** Associations whose reviews may ask for changes when no reviewers are listed. */
const TRUSTED_ASSOCIATIONS = new Set(['OWNER', 'MEMBER', 'COLLABORATOR']);
/** How much of a failing job's log the fix prompt carries. */
const LOG_TAIL_LINES = 80;
const LOG_TAIL_CHARS = 6000;
const PASSING_CONCLUSIONS = new Set(['success', 'neutral', 'skipped']);
const MERGEABLE_STATES = new Set<MergeableState>(['clean', 'dirty', 'blocked', 'unstable', 'behind', 'unknown', 'draft', 'has_hooks']);

export class GitHubPulls implements PullRequestWatch {
  /**
   * Review threads per pull request with the review comments they were read for: GraphQL has no
   * conditional requests, so threads are asked for again only when the comments changed (or Orch
   * resolved some), and never for a pull request without comments.
   */
  private readonly threads = new Map<number, { comments: string; threads: ThreadsAnswer['repository']['pullRequest']['reviewThreads']['nodes'] }>();

  constructor(
    private readonly rest: GitHubRest,
    private readonly repoParams: { owner: string; repo: string },
  ) {}

  /** Opens the pull request of `branch` into `base`, or finds the one already open. */
  async open(request: { branch: string; base: string; title: string; body: string }): Promise<PullRequestInfo> {
    const existing = await this.openFor(request.branch, request.base);
    if (existing) return pullInfo(existing);
    try {
      const created = await this.rest.send<GitHubPull>('POST /repos/{owner}/{repo}/pulls', { ...this.repoParams, title: request.title, head: request.branch, base: request.base, body: request.body });
      return pullInfo(created);
    } catch (error) {
      // Opened meanwhile by another attempt: GitHub refuses a second one for the same branch.
      if (isValidationFailure(error)) {
        const opened = await this.openFor(request.branch, request.base);
        if (opened) return pullInfo(opened);
      }
      throw error;
    }
  }

  /** Whether the pull request is merged or closed, so its task can finish. */
  async info(number: number): Promise<PullRequestInfo> {
    return pullInfo(await this.rest.cachedGet<GitHubPull>('GET /repos/{owner}/{repo}/pulls/{pull_number}', { ...this.repoParams, pull_number: number }));
  }

  private async openFor(branch: string, base: string): Promise<GitHubPull | undefined> {
    const pulls = await this.rest.cachedGet<GitHubPull[]>('GET /repos/{owner}/{repo}/pulls', { ...this.repoParams, state: 'open', head: `${this.repoParams.owner}:${branch}`, base, per_page: 100 });
    return pulls[0];
  }

  async look(number: number, reviewers: readonly string[], signal?: AbortSignal): Promise<PullRequestSnapshot> {
    const params = { ...this.repoParams, pull_number: number };
    const pull = await this.rest.cachedGet<GitHubPullDetail>('GET /repos/{owner}/{repo}/pulls/{pull_number}', params, signal);
    const merged = pull.merged ?? pull.merged_at !== null;
    const base = {
      merged,
      closed: pull.state === 'closed',
      headSha: pull.head.sha,
      mergeableState: MERGEABLE_STATES.has(pull.mergeable_state as MergeableState) ? (pull.mergeable_state as MergeableState) : 'unknown',
      author: pull.user?.login ?? '',
    };
    // A pull request that is over needs nothing else looked at.
    if (base.closed) return { ...base, checks: [], reviews: [], threads: [] };
    const trusted = (login: string, association: string) => (reviewers.length > 0 ? reviewers.some((r) => r.toLowerCase() === login.toLowerCase()) : TRUSTED_ASSOCIATIONS.has(association));
    const [checks, reviews, comments] = await Promise.all([
      this.checksOf(pull.head.sha, signal),
      this.rest.all<GitHubReview>('GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews', params, signal),
      this.rest.all<GitHubReviewComment>('GET /repos/{owner}/{repo}/pulls/{pull_number}/comments', params, signal),
    ]);
    const threads = await this.threadsOf(number, comments);
    const byId = new Map(comments.map((c) => [c.id, c]));
    return {
      ...base,
      checks,
      reviews: reviews.map((r): PullRequestReview => {
        const author = r.user?.login ?? '';
        return { id: r.id, author, trusted: trusted(author, r.author_association), state: r.state as ReviewState, body: r.body ?? '' };
      }),
      threads: threads.map((t): ReviewThread => ({
        id: t.id,
        resolved: t.isResolved,
        path: t.path,
        line: t.line,
        comments: t.comments.nodes.flatMap((node) => {
          const comment = node.fullDatabaseId === null ? undefined : byId.get(Number(node.fullDatabaseId));
          if (!comment) return [];
          const author = comment.user?.login ?? '';
          return [{ id: comment.id, author, trusted: trusted(author, comment.author_association), body: comment.body }];
        }),
      })),
    };
  }

  private async threadsOf(number: number, comments: readonly GitHubReviewComment[]): Promise<ThreadsAnswer['repository']['pullRequest']['reviewThreads']['nodes']> {
    if (comments.length === 0) return [];
    const key = comments.map((c) => `${c.id}:${c.body.length}`).join(',');
    const known = this.threads.get(number);
    if (known?.comments === key) return known.threads;
    const answer = await this.rest.graphql<ThreadsAnswer>(THREADS_QUERY, { owner: this.repoParams.owner, name: this.repoParams.repo, number });
    const threads = answer.repository.pullRequest.reviewThreads.nodes;
    this.threads.set(number, { comments: key, threads });
    return threads;
  }

  /** The head's check runs and commit statuses, each as one check. */
  private async checksOf(sha: string, signal?: AbortSignal): Promise<PullRequestCheck[]> {
    const ref = { ...this.repoParams, ref: sha };
    const [runs, combined] = await Promise.all([
      this.rest.cachedGet<{ check_runs: GitHubCheckRun[] }>('GET /repos/{owner}/{repo}/commits/{ref}/check-runs', { ...ref, per_page: 100 }, signal),
      this.rest.cachedGet<{ statuses: GitHubStatus[] }>('GET /repos/{owner}/{repo}/commits/{ref}/status', ref, signal),
    ]);
    const fromRuns = runs.check_runs.map((run): PullRequestCheck => {
      const actions = /\/actions\/runs\/(\d+)\/job\/(\d+)/.exec(run.details_url ?? run.html_url ?? '');
      return {
        name: run.name,
        state: run.status !== 'completed' ? 'pending' : PASSING_CONCLUSIONS.has(run.conclusion ?? '') ? 'passing' : 'failing',
        url: run.html_url ?? run.details_url,
        summary: [run.output.title, run.output.summary, run.output.text].filter(Boolean).join('\n') || null,
        workflowRunId: actions ? Number(actions[1]) : null,
        jobId: actions ? Number(actions[2]) : null,
      };
    });
    const fromStatuses = combined.statuses.map((status): PullRequestCheck => ({
      name: status.context,
      state: status.state === 'success' ? 'passing' : status.state === 'pending' ? 'pending' : 'failing',
      url: status.target_url,
      summary: status.description,
      workflowRunId: null,
      jobId: null,
    }));
    return [...fromRuns, ...fromStatuses];
  }

  async failures(checks: readonly PullRequestCheck[]): Promise<CheckFailure[]> {
    const found: CheckFailure[] = [];
    for (const check of checks) {
      let step: string | null = null;
      let logTail: string | null = null;
      if (check.workflowRunId !== null && check.jobId !== null) {
        const jobs = await this.rest.cachedGet<{ jobs: GitHubJob[] }>('GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs', { ...this.repoParams, run_id: check.workflowRunId, per_page: 100 });
        step = jobs.jobs.find((job) => job.id === check.jobId)?.steps?.find((s) => s.conclusion === 'failure')?.name ?? null;
        const log = await this.rest.page<unknown>('GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs', { ...this.repoParams, job_id: check.jobId });
        logTail = typeof log.data === 'string' ? tail(log.data) : null;
      }
      found.push({ name: check.name, url: check.url, step, logTail: logTail ?? (check.summary ? tail(check.summary) : null) });
    }
    return found;
  }

  async rerunFailedJobs(workflowRunIds: readonly number[]): Promise<void> {
    for (const runId of new Set(workflowRunIds)) {
      await this.rest.send('POST /repos/{owner}/{repo}/actions/runs/{run_id}/rerun-failed-jobs', { ...this.repoParams, run_id: runId });
    }
  }

  async reply(number: number, body: string): Promise<void> {
    await this.rest.send('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { ...this.repoParams, issue_number: number, body });
  }

  async resolveThreads(number: number, threadIds: readonly string[]): Promise<void> {
    for (const id of threadIds) await this.rest.graphql(RESOLVE_MUTATION, { id });
    this.threads.delete(number);
  }

  async merge(number: number, method: AutoMerge, sha: string): Promise<void> {
    try {
      const answer = await this.rest.send<{ merged: boolean; message: string }>('PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge', { ...this.repoParams, pull_number: number, merge_method: method, sha });
      if (!answer.merged) throw new TrackerError(`GitHub did not merge pull request #${number}: ${answer.message}`);
    } catch (error) {
      if (isValidationFailure(error)) throw new TrackerError(`GitHub refused to merge pull request #${number} with ${method}: ${(error as Error).message}`);
      throw error;
    }
  }
}

function tail(text: string): string {
  const lines = text.replace(/\r\n/g, '\n').trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');
  return lines.length > LOG_TAIL_CHARS ? lines.slice(-LOG_TAIL_CHARS) : lines;
}

function pullInfo(pull: GitHubPull): PullRequestInfo {
  return { url: pull.html_url, number: pull.number, merged: pull.merged ?? pull.merged_at !== null, closed: pull.state === 'closed' };
}
