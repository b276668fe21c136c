// What the GitHub tracker reads from and writes to issues, without any I/O: refs, the labels Orch
// understands (role, priority, blocked, its own status labels), dependency lines in a body, the status
// comment, and what counts as a mention of Orch.

import type { TaskState } from '../core/types.js';
import { statusName } from './issue-conventions.js';
import type { StatusReport } from './tracker.js';

export { isStatusComment, roleFromLabels, STATUS_MARKER, statusComment } from './issue-conventions.js';

/** The parts of GitHub's issue object the tracker reads. */
export interface GitHubIssue {
  number: number;
  title: string;
  body?: string | null;
  state: string;
  html_url: string;
  repository_url: string;
  updated_at: string;
  user: { login: string } | null;
  labels: (string | { name?: string })[];
  pull_request?: unknown;
  sub_issues_summary?: { total: number; completed: number };
  parent_issue_url?: string | null;
}

export interface GitHubComment {
  id: number;
  body?: string;
  html_url: string;
  issue_url: string;
  created_at: string;
  updated_at: string;
  user: { login: string } | null;
  author_association?: string;
}

export interface GitHubPull {
  number: number;
  html_url: string;
  state: string;
  merged?: boolean;
  merged_at: string | null;
}

export const BLOCKED_LABEL = 'blocked';
const STATUS_PREFIX = 'orch:';
const AGENT_PREFIX = 'agent:';
const COMPLEXITY_PREFIX = 'complexity:';

/** Associations whose comments may ask Orch for work when no authors are configured. */
const TRUSTED_ASSOCIATIONS = new Set(['OWNER', 'MEMBER', 'COLLABORATOR']);

export function issueRef(repo: string, number: number): string {
  return `github:${repo}#${number}`;
}

export function commentRef(repo: string, issueNumber: number, commentId: number): string {
  return `${issueRef(repo, issueNumber)}/comment-${commentId}`;
}

/** `github:owner/name#12` → its parts; null for anything else (another tracker's ref, a comment ref). */
export function parseIssueRef(ref: string): { repo: string; number: number } | null {
  const match = /^github:([\w.-]+\/[\w.-]+)#(\d+)$/.exec(ref);
  return match ? { repo: match[1] as string, number: Number(match[2]) } : null;
}

/** A task's ref: an issue (`github:owner/name#12`) or a mention in a comment on one (`…#12/comment-99`, commentId set). */
export function parseTaskRef(ref: string): { repo: string; number: number; commentId: number | null } | null {
  const match = /^github:([\w.-]+\/[\w.-]+)#(\d+)(?:\/comment-(\d+))?$/.exec(ref);
  return match ? { repo: match[1] as string, number: Number(match[2]), commentId: match[3] ? Number(match[3]) : null } : null;
}

/** The marker of the status reply to a mention: one reply per asking comment, edited in place like the issue's. */
export function mentionStatusMarker(commentId: number): string {
  return `<!-- orch:status comment-${commentId} -->`;
}

/** Whether a comment is Orch's status reply to a mention. */
export function isMentionStatusComment(body: string | undefined): boolean {
  return /^<!-- orch:status comment-\d+ -->/.test((body ?? '').trimStart());
}

/** `https://api.github.com/repos/owner/name/issues/12` (or a repository URL plus a number) → a ref. */
export function refFromApiUrl(url: string): { repo: string; number: number } | null {
  const match = /\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)$/.exec(url);
  return match ? { repo: `${match[1]}/${match[2]}`, number: Number(match[3]) } : null;
}

export function repoFromApiUrl(repositoryUrl: string): string | null {
  const match = /\/repos\/([^/]+)\/([^/]+)$/.exec(repositoryUrl);
  return match ? `${match[1]}/${match[2]}` : null;
}

export function labelNames(issue: Pick<GitHubIssue, 'labels'>): string[] {
  return issue.labels.map((label) => (typeof label === 'string' ? label : (label.name ?? ''))).filter((name) => name.length > 0);
}

/** `priority:<n>`, or `P0`..`P3` with P0 the most urgent (3) and P3 the least (0); the highest wins; default 0. */
export function priorityFromLabels(labels: string[]): number {
  const priorities = labels.flatMap((label) => {
    const numbered = /^priority:\s*(-?\d+)$/i.exec(label);
    if (numbered) return [Number(numbered[1])];
    const level = /^p([0-3])$/i.exec(label);
    return level ? [3 - Number(level[1])] : [];
  });
  return priorities.length > 0 ? Math.max(...priorities) : 0;
}

export function hasBlockedLabel(labels: string[]): boolean {
  return labels.some((label) => label.toLowerCase() === BLOCKED_LABEL);
}

/**
 * Issues named on `Depends on …` / `Blocked by …` lines: `#12`, `owner/name#12` or an issue URL, several
 * per line allowed. Returned as refs, in order, without duplicates.
 */
export function dependencyRefs(body: string, repo: string): string[] {
  const refs = new Set<string>();
  for (const line of body.split(/\r?\n/)) {
    const match = /^\s*(?:[-*]\s+(?:\[[ xX]\]\s+)?)?(?:\*\*)?(?:depends\s+on|blocked\s+by)(?:\*\*)?\s*:?\s*(.*)$/i.exec(line);
    if (!match) continue;
    const rest = match[1] ?? '';
    for (const found of rest.matchAll(/(?:https?:\/\/[^\s/]+\/([\w.-]+\/[\w.-]+)\/issues\/(\d+))|(?:\b([\w.-]+\/[\w.-]+))?#(\d+)\b/g)) {
      const target = found[1] ?? found[3] ?? repo;
      const number = Number(found[2] ?? found[4]);
      refs.add(issueRef(target, number));
    }
  }
  return [...refs];
}

/** Whether a label is one of Orch's own status labels, which say what Orch did rather than what the task is. */
export function isStatusLabel(label: string): boolean {
  return label.toLowerCase().startsWith(STATUS_PREFIX);
}

/** The label for each task state: what people filter the issue list by. */
export function statusLabel(state: TaskState): string {
  return `${STATUS_PREFIX}${statusName(state)}`;
}

/**
 * The labels to add and remove so the issue shows exactly one status label and the current agent and
 * complexity. Labels in `keep` (the ones that select issues for Orch) are never removed.
 */
export function labelChanges(current: string[], status: StatusReport, keep: string[] = []): { add: string[]; remove: string[] } {
  const wanted = [statusLabel(status.state)];
  if (status.agent) wanted.push(`${AGENT_PREFIX}${status.agent}`);
  if (status.complexity) wanted.push(`${COMPLEXITY_PREFIX}${status.complexity}`);
  const wantedLower = new Set(wanted.map((label) => label.toLowerCase()));
  const replaced = [STATUS_PREFIX, status.agent ? AGENT_PREFIX : null, status.complexity ? COMPLEXITY_PREFIX : null].filter(
    (prefix): prefix is string => prefix !== null,
  );
  const currentLower = new Set(current.map((label) => label.toLowerCase()));
  const kept = new Set(keep.map((label) => label.toLowerCase()));
  return {
    add: wanted.filter((label) => !currentLower.has(label.toLowerCase())),
    remove: current.filter((label) => {
      const lower = label.toLowerCase();
      return !wantedLower.has(lower) && !kept.has(lower) && replaced.some((prefix) => lower.startsWith(prefix));
    }),
  };
}

/** `@orch` as a mention of its own (not `@orchestra`, not an e-mail address, not inside a word). */
export function mentionsOrch(body: string | undefined): boolean {
  return /(?<![\w@.-])@orch(?![\w-])/i.test(body ?? '');
}

/** Whether a comment's author may ask Orch for work: the configured logins, else the repository's own people. */
export function mayAsk(comment: Pick<GitHubComment, 'user' | 'author_association'>, authors: string[]): boolean {
  const login = comment.user?.login;
  if (!login) return false;
  if (authors.length > 0) return authors.some((author) => author.toLowerCase() === login.toLowerCase());
  return TRUSTED_ASSOCIATIONS.has(comment.author_association ?? '');
}

/** A short title for a mention: its first line without the mention itself. */
export function mentionTitle(body: string, issueNumber: number): string {
  const firstLine = body
    .split(/\r?\n/)
    .map((line) => line.replace(/(?<![\w@.-])@orch(?![\w-])[,:]?/gi, ' ').replace(/\s+/g, ' ').trim())
    .find((line) => line.length > 0);
  const title = firstLine ?? `request on #${issueNumber}`;
  return title.length > 80 ? `${title.slice(0, 79)}…` : title;
}

/** A pull request body that closes the issue when merged: GitHub's `Closes #N`, added unless already there. */
export function withClosingKeyword(body: string, issueNumber: number): string {
  const closes = new RegExp(`\\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?):?\\s+#${issueNumber}\\b`, 'i');
  if (closes.test(body)) return body;
  const text = body.trimEnd();
  return `${text}${text ? '\n\n' : ''}Closes #${issueNumber}\n`;
}

/**
 * A pull request body for work asked for in a comment: it links the issue and the comment but does not
 * close the issue, which may hold more than that one request.
 */
export function withMentionLink(body: string, issueNumber: number, commentId: number): string {
  const text = body.trimEnd();
  return `${text}${text ? '\n\n' : ''}Asked for in a comment on #${issueNumber} (comment ${commentId}).\n`;
}
