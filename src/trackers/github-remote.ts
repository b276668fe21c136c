// Pull requests on GitHub for a project whose backlog is not GitHub's (local tasks): its judged branches
// are pushed to a GitHub remote, and their pull requests are opened, watched and merged there as for a
// GitHub tracker's issues. Its sync finds no issues: the tasks are Orch's own.

import type { ProjectConfig } from '../config/schema.js';
import { DEFAULT_GITHUB_API_URL } from '../config/defaults.js';
import { GitHubTracker } from './github.js';
import { TrackerError, type PullRequestInfo, type PullRequestRequest, type SyncResult, type Tracker } from './tracker.js';

/** The token's variable when the project's `pull_requests.github` names none. */
export const DEFAULT_PULL_REQUEST_TOKEN_ENV = 'GITHUB_TOKEN';

/** `owner/name` of a github.com remote (https, ssh or scp-like), else null. */
export function githubRepoOfRemote(remote: string | null): string | null {
  if (!remote) return null;
  const match = /^(?:https:\/\/(?:[^@/]+@)?github\.com\/|ssh:\/\/git@github\.com\/|git@github\.com:)([\w.-]+)\/([\w.-]+?)(?:\.git)?\/?$/.exec(remote.trim());
  return match ? `${match[1]}/${match[2]}` : null;
}

/**
 * The GitHub side of a `merge_strategy: pr` project without a GitHub tracker, or null when it has no
 * GitHub repository to open pull requests in (`pull_requests.github.repo`, else a github.com remote).
 */
export function createGitHubRemote(project: ProjectConfig, env: NodeJS.ProcessEnv, now: () => number): Tracker | null {
  if (project.mergeStrategy !== 'pr') return null;
  const settings = project.pullRequests.github;
  const repo = settings.repo ?? githubRepoOfRemote(project.remote);
  if (!repo) return null;
  const tokenEnv = settings.tokenEnv ?? DEFAULT_PULL_REQUEST_TOKEN_ENV;
  const token = env[tokenEnv];
  if (!token) throw new TrackerError(`pull requests on GitHub for ${repo}: no token in $${tokenEnv}`);
  return new GitHubRemote(new GitHubTracker({ repo, token, apiUrl: settings.apiUrl ?? DEFAULT_GITHUB_API_URL, closeWhenDone: false, now }));
}

class GitHubRemote implements Tracker {
  readonly kind = 'github' as const;
  readonly pulls: GitHubTracker['pulls'];

  constructor(private readonly github: GitHubTracker) {
    this.pulls = github.pulls;
  }

  sync(): Promise<SyncResult> {
    return Promise.resolve({ issues: [], cursor: null, notBefore: null });
  }

  claim(): Promise<boolean> {
    return Promise.resolve(true);
  }

  /** Local tasks have no issue to report on. */
  report(): Promise<void> {
    return Promise.resolve();
  }

  openPullRequest(request: PullRequestRequest): Promise<PullRequestInfo> {
    return this.github.openPullRequest({ ...request, ref: null });
  }

  pullRequest(number: number): Promise<PullRequestInfo> {
    return this.github.pullRequest(number);
  }
}
