// The fake's records rendered as the JSON objects GitHub's REST API returns: every field GitHub's
// description requires, with the URL templates, node ids and timestamps real answers carry.

import type { CommentRecord, FakeRepository, FakeUsers, IssueRecord, LabelRecord, UserRecord } from './state.js';

/** Where the objects point: the fake's own API address, and an HTML address like github.com. */
export interface Addresses {
  api: string;
  html: string;
}

export class GitHubObjects {
  constructor(
    readonly addresses: Addresses,
    private readonly users: FakeUsers,
  ) {}

  user(login: string): Record<string, unknown> {
    const user: UserRecord = this.users.get(login);
    const url = `${this.addresses.api}/users/${login}`;
    return {
      login: user.login,
      id: user.id,
      node_id: nodeId(user.type === 'Bot' ? 'BOT' : 'U', user.id),
      avatar_url: `https://avatars.githubusercontent.com/u/${user.id}?v=4`,
      gravatar_id: '',
      url,
      html_url: `${this.addresses.html}/${login}`,
      followers_url: `${url}/followers`,
      following_url: `${url}/following{/other_user}`,
      gists_url: `${url}/gists{/gist_id}`,
      starred_url: `${url}/starred{/owner}{/repo}`,
      subscriptions_url: `${url}/subscriptions`,
      organizations_url: `${url}/orgs`,
      repos_url: `${url}/repos`,
      events_url: `${url}/events{/privacy}`,
      received_events_url: `${url}/received_events`,
      type: user.type,
      user_view_type: 'public',
      site_admin: false,
    };
  }

  label(repo: FakeRepository, label: LabelRecord): Record<string, unknown> {
    return {
      id: label.id,
      node_id: nodeId('LA', label.id),
      url: `${this.repoUrl(repo)}/labels/${encodeURIComponent(label.name)}`,
      name: label.name,
      color: label.color,
      description: label.description,
      default: false,
    };
  }

  /** An issue as the issues endpoints show it; a pull request's issue view carries `pull_request`. */
  issue(repo: FakeRepository, issue: IssueRecord): Record<string, unknown> {
    const url = `${this.repoUrl(repo)}/issues/${issue.number}`;
    const subIssues = issue.subIssues.map((number) => repo.issue(number));
    const completed = subIssues.filter((sub) => sub.state === 'closed').length;
    const object: Record<string, unknown> = {
      url,
      repository_url: this.repoUrl(repo),
      labels_url: `${url}/labels{/name}`,
      comments_url: `${url}/comments`,
      events_url: `${url}/events`,
      html_url: this.issueHtmlUrl(repo, issue),
      id: issue.id,
      node_id: nodeId(issue.pull ? 'PR' : 'I', issue.id),
      number: issue.number,
      title: issue.title,
      user: this.user(issue.author),
      labels: this.labelsOf(repo, issue),
      state: issue.state,
      locked: false,
      assignee: issue.assignees[0] === undefined ? null : this.user(issue.assignees[0]),
      assignees: issue.assignees.map((login) => this.user(login)),
      milestone: null,
      comments: repo.commentsOn(issue.number).length,
      created_at: timestamp(issue.createdAt),
      updated_at: timestamp(issue.updatedAt),
      closed_at: issue.closedAt === null ? null : timestamp(issue.closedAt),
      closed_by: issue.closedBy === null ? null : this.user(issue.closedBy),
      author_association: repo.association(issue.author),
      active_lock_reason: null,
      body: issue.body,
      reactions: reactions(`${url}/reactions`),
      timeline_url: `${url}/timeline`,
      performed_via_github_app: null,
      state_reason: issue.stateReason,
      sub_issues_summary: {
        total: subIssues.length,
        completed,
        percent_completed: subIssues.length === 0 ? 0 : Math.floor((completed * 100) / subIssues.length),
      },
    };
    if (issue.parent !== null) object.parent_issue_url = `${this.repoUrl(repo)}/issues/${issue.parent}`;
    if (issue.pull) {
      const pullUrl = `${this.repoUrl(repo)}/pulls/${issue.number}`;
      const htmlUrl = this.issueHtmlUrl(repo, issue);
      object.draft = issue.pull.draft;
      object.pull_request = {
        url: pullUrl,
        html_url: htmlUrl,
        diff_url: `${htmlUrl}.diff`,
        patch_url: `${htmlUrl}.patch`,
        merged_at: issue.pull.mergedAt === null ? null : timestamp(issue.pull.mergedAt),
      };
    }
    return object;
  }

  comment(repo: FakeRepository, comment: CommentRecord): Record<string, unknown> {
    const issue = repo.issue(comment.issueNumber);
    const url = `${this.repoUrl(repo)}/issues/comments/${comment.id}`;
    return {
      url,
      html_url: `${this.issueHtmlUrl(repo, issue)}#issuecomment-${comment.id}`,
      issue_url: `${this.repoUrl(repo)}/issues/${issue.number}`,
      id: comment.id,
      node_id: nodeId('IC', comment.id),
      user: this.user(comment.author),
      created_at: timestamp(comment.createdAt),
      updated_at: timestamp(comment.updatedAt),
      author_association: repo.association(comment.author),
      body: comment.body,
      reactions: reactions(`${url}/reactions`),
      performed_via_github_app: null,
    };
  }

  /** A pull request as the list endpoint shows it (GitHub's pull-request-simple). */
  pullSummary(repo: FakeRepository, issue: IssueRecord): Record<string, unknown> {
    const pull = issue.pull;
    if (!pull) throw new Error(`#${issue.number} is not a pull request`);
    const url = `${this.repoUrl(repo)}/pulls/${issue.number}`;
    const htmlUrl = this.issueHtmlUrl(repo, issue);
    const issueUrl = `${this.repoUrl(repo)}/issues/${issue.number}`;
    const statusesUrl = `${this.repoUrl(repo)}/statuses/${pull.headSha}`;
    return {
      url,
      id: issue.id,
      node_id: nodeId('PR', issue.id),
      html_url: htmlUrl,
      diff_url: `${htmlUrl}.diff`,
      patch_url: `${htmlUrl}.patch`,
      issue_url: issueUrl,
      commits_url: `${url}/commits`,
      review_comments_url: `${url}/comments`,
      review_comment_url: `${this.repoUrl(repo)}/pulls/comments{/number}`,
      comments_url: `${issueUrl}/comments`,
      statuses_url: statusesUrl,
      number: issue.number,
      state: issue.state,
      locked: false,
      title: issue.title,
      user: this.user(issue.author),
      body: issue.body,
      labels: this.labelsOf(repo, issue),
      milestone: null,
      active_lock_reason: null,
      created_at: timestamp(issue.createdAt),
      updated_at: timestamp(issue.updatedAt),
      closed_at: issue.closedAt === null ? null : timestamp(issue.closedAt),
      merged_at: pull.mergedAt === null ? null : timestamp(pull.mergedAt),
      merge_commit_sha: pull.mergeCommitSha,
      assignee: issue.assignees[0] === undefined ? null : this.user(issue.assignees[0]),
      assignees: issue.assignees.map((login) => this.user(login)),
      requested_reviewers: [],
      requested_teams: [],
      head: this.branch(repo, pull.head, pull.headSha),
      base: this.branch(repo, pull.base, baseSha(pull.headSha)),
      _links: {
        self: { href: url },
        html: { href: htmlUrl },
        issue: { href: issueUrl },
        comments: { href: `${issueUrl}/comments` },
        review_comments: { href: `${url}/comments` },
        review_comment: { href: `${this.repoUrl(repo)}/pulls/comments{/number}` },
        commits: { href: `${url}/commits` },
        statuses: { href: statusesUrl },
      },
      author_association: repo.association(issue.author),
      auto_merge: null,
      draft: pull.draft,
    };
  }

  /** A pull request as the single-pull endpoint shows it, with merge state and counts. */
  pull(repo: FakeRepository, issue: IssueRecord): Record<string, unknown> {
    const pull = issue.pull;
    if (!pull) throw new Error(`#${issue.number} is not a pull request`);
    return {
      ...this.pullSummary(repo, issue),
      merged: pull.merged,
      mergeable: issue.state === 'open' ? pull.mergeable : null,
      rebaseable: issue.state === 'open' ? pull.mergeable : null,
      mergeable_state: issue.state === 'open' ? repo.mergeState(issue.number) : 'unknown',
      merged_by: pull.merged ? this.user(issue.closedBy ?? repo.owner) : null,
      comments: repo.commentsOn(issue.number).length,
      review_comments: repo.reviews.commentsOf(issue.number).length,
      maintainer_can_modify: false,
      commits: 1,
      additions: 1,
      deletions: 0,
      changed_files: 1,
    };
  }

  repository(repo: FakeRepository): Record<string, unknown> {
    const url = this.repoUrl(repo);
    const htmlUrl = `${this.addresses.html}/${repo.fullName}`;
    const openIssues = [...repo.issues.values()].filter((issue) => issue.state === 'open').length;
    return {
      id: repo.id,
      node_id: nodeId('R', repo.id),
      name: repo.name,
      full_name: repo.fullName,
      owner: this.user(repo.owner),
      private: false,
      html_url: htmlUrl,
      description: null,
      fork: false,
      url,
      archive_url: `${url}/{archive_format}{/ref}`,
      assignees_url: `${url}/assignees{/user}`,
      blobs_url: `${url}/git/blobs{/sha}`,
      branches_url: `${url}/branches{/branch}`,
      collaborators_url: `${url}/collaborators{/collaborator}`,
      comments_url: `${url}/comments{/number}`,
      commits_url: `${url}/commits{/sha}`,
      compare_url: `${url}/compare/{base}...{head}`,
      contents_url: `${url}/contents/{+path}`,
      contributors_url: `${url}/contributors`,
      deployments_url: `${url}/deployments`,
      downloads_url: `${url}/downloads`,
      events_url: `${url}/events`,
      forks_url: `${url}/forks`,
      git_commits_url: `${url}/git/commits{/sha}`,
      git_refs_url: `${url}/git/refs{/sha}`,
      git_tags_url: `${url}/git/tags{/sha}`,
      git_url: `git://${new URL(htmlUrl).host}/${repo.fullName}.git`,
      issue_comment_url: `${url}/issues/comments{/number}`,
      issue_events_url: `${url}/issues/events{/number}`,
      issues_url: `${url}/issues{/number}`,
      keys_url: `${url}/keys{/key_id}`,
      labels_url: `${url}/labels{/name}`,
      languages_url: `${url}/languages`,
      merges_url: `${url}/merges`,
      milestones_url: `${url}/milestones{/number}`,
      notifications_url: `${url}/notifications{?since,all,participating}`,
      pulls_url: `${url}/pulls{/number}`,
      releases_url: `${url}/releases{/id}`,
      ssh_url: `git@${new URL(htmlUrl).host}:${repo.fullName}.git`,
      stargazers_url: `${url}/stargazers`,
      statuses_url: `${url}/statuses/{sha}`,
      subscribers_url: `${url}/subscribers`,
      subscription_url: `${url}/subscription`,
      tags_url: `${url}/tags`,
      teams_url: `${url}/teams`,
      trees_url: `${url}/git/trees{/sha}`,
      clone_url: `${htmlUrl}.git`,
      mirror_url: null,
      hooks_url: `${url}/hooks`,
      svn_url: htmlUrl,
      homepage: null,
      language: 'TypeScript',
      forks: 0,
      forks_count: 0,
      stargazers_count: 0,
      watchers_count: 0,
      watchers: 0,
      size: 1,
      default_branch: repo.defaultBranch,
      open_issues: openIssues,
      open_issues_count: openIssues,
      is_template: false,
      topics: [],
      has_issues: true,
      has_projects: true,
      has_wiki: false,
      has_pages: false,
      has_downloads: true,
      has_discussions: false,
      archived: false,
      disabled: false,
      visibility: 'public',
      pushed_at: timestamp(repo.createdAt),
      created_at: timestamp(repo.createdAt),
      updated_at: timestamp(repo.createdAt),
      license: null,
      allow_forking: true,
      web_commit_signoff_required: false,
    };
  }

  private branch(repo: FakeRepository, ref: string, sha: string): Record<string, unknown> {
    return { label: `${repo.owner}:${ref}`, ref, sha, user: this.user(repo.owner), repo: this.repository(repo) };
  }

  private labelsOf(repo: FakeRepository, issue: IssueRecord): Record<string, unknown>[] {
    return issue.labels.map((name) => {
      const label = repo.findLabel(name);
      if (!label) throw new Error(`label ${name} of #${issue.number} is not in ${repo.fullName}`);
      return this.label(repo, label);
    });
  }

  repoUrl(repo: FakeRepository): string {
    return `${this.addresses.api}/repos/${repo.fullName}`;
  }

  issueHtmlUrl(repo: FakeRepository, issue: IssueRecord): string {
    return `${this.addresses.html}/${repo.fullName}/${issue.pull ? 'pull' : 'issues'}/${issue.number}`;
  }
}

/** GitHub's timestamps: ISO 8601, whole seconds, UTC. */
export function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function nodeId(prefix: string, id: number): string {
  return `${prefix}_kwDO${Buffer.from(`fake:${id}`).toString('base64url')}`;
}

function reactions(url: string): Record<string, unknown> {
  return { url, total_count: 0, '+1': 0, '-1': 0, laugh: 0, hooray: 0, confused: 0, heart: 0, rocket: 0, eyes: 0 };
}

/** The base branch's tip: something other than the head's, stable per pull request. */
function baseSha(headSha: string): string {
  return [...headSha].reverse().join('');
}
