// The operations the fake GitHub serves, one handler each, named by GitHub's own method and path template
// so the server can look up the response schema for every answer. Handlers read and change the state and
// say what to answer; the server adds pagination, ETags, rate limits and validation.

import type { GitHubObjects } from './objects.js';
import { NotFoundError, ValidationError, type FakeRepository, type IssueRecord } from './state.js';

export const DOCUMENTATION_URL = 'https://docs.github.com/rest';

export interface RouteContext {
  repo: FakeRepository;
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  /** Whose token made the request. */
  login: string;
  objects: GitHubObjects;
}

/**
 * `items`: a list the server pages through (per_page, page, Link); `body`: sent as it is (undefined: no
 * body), with `headers` such as a redirect's `location`.
 */
export type RouteAnswer = { status: number; body: unknown; headers?: Record<string, string> } | { status: number; items: unknown[] };

export interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** GitHub's path template, e.g. `/repos/{owner}/{repo}/issues/{issue_number}`. */
  template: string;
  handle(context: RouteContext): RouteAnswer;
}

export const ROUTES: Route[] = [
  {
    method: 'GET',
    template: '/repos/{owner}/{repo}/issues',
    handle: ({ repo, query, objects }) => ({ status: 200, items: listIssues(repo, query).map((issue) => objects.issue(repo, issue)) }),
  },
  {
    method: 'POST',
    template: '/repos/{owner}/{repo}/issues',
    handle: ({ repo, body, login, objects }) => {
      const fields = record(body);
      const title = requiredString(fields, 'title', 'Issue');
      const issue = repo.addIssue({
        title,
        body: optionalString(fields, 'body'),
        author: login,
        labels: labelNames(fields.labels),
        assignees: assigneesOf(fields),
      });
      return { status: 201, body: objects.issue(repo, issue) };
    },
  },
  {
    method: 'GET',
    template: '/repos/{owner}/{repo}/issues/{issue_number}',
    handle: ({ repo, params, objects }) => ({ status: 200, body: objects.issue(repo, repo.issue(Number(params.issue_number))) }),
  },
  {
    method: 'PATCH',
    template: '/repos/{owner}/{repo}/issues/{issue_number}',
    handle: ({ repo, params, body, login, objects }) => {
      const fields = record(body);
      const state = fields.state;
      if (state !== undefined && state !== 'open' && state !== 'closed') throw invalid('Issue', 'state', 'invalid');
      const stateReason = fields.state_reason;
      if (stateReason !== undefined && stateReason !== null && !['completed', 'not_planned', 'duplicate', 'reopened'].includes(String(stateReason))) {
        throw invalid('Issue', 'state_reason', 'invalid');
      }
      const issue = repo.updateIssue(
        Number(params.issue_number),
        {
          title: typeof fields.title === 'string' ? fields.title : undefined,
          body: fields.body === undefined ? undefined : optionalString(fields, 'body'),
          labels: fields.labels === undefined ? undefined : labelNames(fields.labels),
          assignees: fields.assignees === undefined && fields.assignee === undefined ? undefined : assigneesOf(fields),
          state,
          stateReason: stateReason as IssueRecord['stateReason'] | undefined,
        },
        login,
      );
      return { status: 200, body: objects.issue(repo, issue) };
    },
  },
  {
    method: 'GET',
    template: '/repos/{owner}/{repo}/labels',
    handle: ({ repo, objects }) => ({ status: 200, items: [...repo.labels.values()].map((label) => objects.label(repo, label)) }),
  },
  {
    method: 'POST',
    template: '/repos/{owner}/{repo}/labels',
    handle: ({ repo, body, objects }) => {
      const fields = record(body);
      const name = requiredString(fields, 'name', 'Label');
      const color = typeof fields.color === 'string' ? fields.color.replace(/^#/, '') : 'ededed';
      const label = repo.createLabel(name, color, optionalString(fields, 'description'));
      return { status: 201, body: objects.label(repo, label) };
    },
  },
  {
    method: 'POST',
    template: '/repos/{owner}/{repo}/issues/{issue_number}/labels',
    handle: ({ repo, params, body, objects }) => {
      const names = labelNames(Array.isArray(body) ? body : record(body).labels);
      if (names.length === 0) throw invalid('Label', 'labels', 'missing_field');
      const issue = repo.addLabels(Number(params.issue_number), names);
      return { status: 200, body: labelsOn(repo, issue, objects) };
    },
  },
  {
    method: 'DELETE',
    template: '/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}',
    handle: ({ repo, params, objects }) => {
      const issue = repo.removeLabel(Number(params.issue_number), params.name ?? '');
      return { status: 200, body: labelsOn(repo, issue, objects) };
    },
  },
  {
    method: 'GET',
    template: '/repos/{owner}/{repo}/issues/{issue_number}/comments',
    handle: ({ repo, params, query, objects }) => {
      const since = sinceOf(query);
      const comments = repo
        .commentsOn(Number(params.issue_number))
        .filter((comment) => comment.updatedAt >= since)
        .sort((a, b) => a.createdAt - b.createdAt || a.id - b.id);
      return { status: 200, items: comments.map((comment) => objects.comment(repo, comment)) };
    },
  },
  {
    method: 'POST',
    template: '/repos/{owner}/{repo}/issues/{issue_number}/comments',
    handle: ({ repo, params, body, login, objects }) => {
      const text = requiredString(record(body), 'body', 'IssueComment');
      return { status: 201, body: objects.comment(repo, repo.addComment(Number(params.issue_number), login, text)) };
    },
  },
  {
    method: 'GET',
    template: '/repos/{owner}/{repo}/issues/comments',
    handle: ({ repo, query, objects }) => {
      const since = sinceOf(query);
      const key = query.get('sort') === 'updated' ? 'updatedAt' : 'createdAt';
      const sign = query.get('direction') === 'desc' ? -1 : 1;
      const comments = [...repo.comments.values()]
        .filter((comment) => comment.updatedAt >= since)
        .sort((a, b) => sign * (a[key] - b[key] || a.id - b.id));
      return { status: 200, items: comments.map((comment) => objects.comment(repo, comment)) };
    },
  },
  {
    method: 'PATCH',
    template: '/repos/{owner}/{repo}/issues/comments/{comment_id}',
    handle: ({ repo, params, body, objects }) => {
      const text = requiredString(record(body), 'body', 'IssueComment');
      return { status: 200, body: objects.comment(repo, repo.updateComment(Number(params.comment_id), text)) };
    },
  },
  {
    method: 'GET',
    template: '/repos/{owner}/{repo}/pulls',
    handle: ({ repo, query, objects }) => {
      const state = query.get('state') ?? 'open';
      const head = query.get('head');
      const base = query.get('base');
      const pulls = repo
        .pulls()
        .filter((issue) => state === 'all' || issue.state === state)
        .filter((issue) => head === null || `${repo.owner}:${issue.pull?.head}` === head)
        .filter((issue) => base === null || issue.pull?.base === base)
        .sort(ordering(query, 'created', 'desc'));
      return { status: 200, items: pulls.map((issue) => objects.pullSummary(repo, issue)) };
    },
  },
  {
    method: 'POST',
    template: '/repos/{owner}/{repo}/pulls',
    handle: ({ repo, body, login, objects }) => {
      const fields = record(body);
      const title = requiredString(fields, 'title', 'PullRequest');
      const head = requiredString(fields, 'head', 'PullRequest').replace(/^[^:]+:/, '');
      const base = requiredString(fields, 'base', 'PullRequest');
      const issue = repo.openPull({ title, head, base, body: optionalString(fields, 'body'), author: login, draft: fields.draft === true });
      return { status: 201, body: objects.pull(repo, issue) };
    },
  },
  {
    method: 'GET',
    template: '/repos/{owner}/{repo}/pulls/{pull_number}',
    handle: ({ repo, params, objects }) => ({ status: 200, body: objects.pull(repo, repo.pull(Number(params.pull_number))) }),
  },
  {
    method: 'GET',
    template: '/repos/{owner}/{repo}/issues/{issue_number}/sub_issues',
    handle: ({ repo, params, objects }) => {
      const parent = repo.issue(Number(params.issue_number));
      return { status: 200, items: parent.subIssues.map((number) => objects.issue(repo, repo.issue(number))) };
    },
  },
  {
    method: 'POST',
    template: '/repos/{owner}/{repo}/issues/{issue_number}/sub_issues',
    handle: ({ repo, params, body, objects }) => {
      const id = record(body).sub_issue_id;
      const child = [...repo.issues.values()].find((issue) => issue.id === id);
      if (!child) throw new NotFoundError();
      return { status: 201, body: objects.issue(repo, repo.addSubIssue(Number(params.issue_number), child.number)) };
    },
  },
];

function listIssues(repo: FakeRepository, query: URLSearchParams): IssueRecord[] {
  const state = query.get('state') ?? 'open';
  const labels = (query.get('labels') ?? '').split(',').map((label) => label.trim().toLowerCase()).filter(Boolean);
  const assignee = query.get('assignee');
  const creator = query.get('creator');
  const since = sinceOf(query);
  return [...repo.issues.values()]
    .filter((issue) => state === 'all' || issue.state === state)
    .filter((issue) => labels.every((wanted) => issue.labels.some((label) => label.toLowerCase() === wanted)))
    .filter((issue) => {
      if (assignee === null) return true;
      if (assignee === 'none') return issue.assignees.length === 0;
      if (assignee === '*') return issue.assignees.length > 0;
      return issue.assignees.some((login) => login.toLowerCase() === assignee.toLowerCase());
    })
    .filter((issue) => creator === null || issue.author.toLowerCase() === creator.toLowerCase())
    .filter((issue) => issue.updatedAt >= since)
    .sort(ordering(query, 'created', 'desc'));
}

function ordering(query: URLSearchParams, defaultSort: string, defaultDirection: string) {
  const sort = query.get('sort') ?? defaultSort;
  const sign = (query.get('direction') ?? defaultDirection) === 'asc' ? 1 : -1;
  const key = (issue: IssueRecord) => (sort === 'updated' ? issue.updatedAt : issue.createdAt);
  return (a: IssueRecord, b: IssueRecord) => sign * (key(a) - key(b) || a.number - b.number);
}

function sinceOf(query: URLSearchParams): number {
  const since = query.get('since');
  if (since === null) return Number.NEGATIVE_INFINITY;
  const at = Date.parse(since);
  if (Number.isNaN(at)) throw invalid('Issue', 'since', 'invalid');
  return at;
}

function labelsOn(repo: FakeRepository, issue: IssueRecord, objects: GitHubObjects): unknown[] {
  return issue.labels.map((name) => {
    const label = repo.findLabel(name);
    if (!label) throw new Error(`label ${name} missing from ${repo.fullName}`);
    return objects.label(repo, label);
  });
}

function labelNames(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid('Label', 'labels', 'invalid');
  return value.map((label) => {
    if (typeof label === 'string') return label;
    if (typeof label === 'object' && label !== null && typeof (label as { name?: unknown }).name === 'string') return (label as { name: string }).name;
    throw invalid('Label', 'labels', 'invalid');
  });
}

function assigneesOf(fields: Record<string, unknown>): string[] {
  if (Array.isArray(fields.assignees)) return fields.assignees.filter((login): login is string => typeof login === 'string');
  return typeof fields.assignee === 'string' ? [fields.assignee] : [];
}

export function record(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('Body', 'body', 'invalid');
  return body as Record<string, unknown>;
}

export function requiredString(fields: Record<string, unknown>, name: string, resource: string): string {
  const value = fields[name];
  if (typeof value !== 'string' || value.length === 0) throw invalid(resource, name, 'missing_field');
  return value;
}

export function optionalString(fields: Record<string, unknown>, name: string): string | null {
  const value = fields[name];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw invalid('Body', name, 'invalid');
  return value;
}

export function invalid(resource: string, field: string, code: string): ValidationError {
  return new ValidationError('Validation Failed', [{ resource, field, code }]);
}
