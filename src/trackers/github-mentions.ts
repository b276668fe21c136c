// `@orch` in a comment as a request for work: the repository's comments read oldest first from a
// cursor (a time and the comment ids already handed out at that time), each comment handed out once,
// only from people allowed to ask, never Orch's own status comments. A first look starts from now:
// mentions from before Orch was listening are not requests to it.

import {
  commentRef,
  isMentionStatusComment,
  isStatusComment,
  issueRef,
  mayAsk,
  mentionTitle,
  mentionsOrch,
  refFromApiUrl,
  type GitHubComment,
} from './github-issues.js';
import { GitHubRateLimitError, latest, type GitHubRest } from './github-rest.js';
import type { MentionRequest, MentionsResult } from './tracker.js';

/** What reading mentions needs of the tracker it serves. */
export interface MentionsSource {
  rest: GitHubRest;
  repoParams: { owner: string; repo: string };
  /** Logins allowed to ask; empty: the repository's owners, members and collaborators. */
  authors: string[];
  now: () => number;
  /** A repository as the config spells it, so refs stay stable whatever case GitHub's URLs use. */
  sameRepoAsConfigured(repo: string): string;
}

interface MentionsCursor {
  /** Comments created at or after this time are new. */
  since: string;
  /** Comments created exactly at `since` already handed out. */
  seen: number[];
}

const EPOCH = '1970-01-01T00:00:00Z';
const ROUTE = 'GET /repos/{owner}/{repo}/issues/comments';

/** Comments mentioning Orch since `cursor`; a rate limit met midway returns what was read, the cursor moved that far. */
export async function readMentions(source: MentionsSource, cursor: string | null, signal?: AbortSignal): Promise<MentionsResult> {
  const { rest } = source;
  const previous = parseMentionsCursor(cursor);
  if (!previous) {
    try {
      const newest = await rest.page<GitHubComment[]>(ROUTE, { ...source.repoParams, sort: 'created', direction: 'desc', per_page: 1 }, null, signal);
      const top = newest.data[0];
      const start: MentionsCursor = { since: top?.created_at ?? EPOCH, seen: top ? [top.id] : [] };
      return { mentions: [], cursor: JSON.stringify(start), notBefore: rest.notBefore };
    } catch (error) {
      if (!(error instanceof GitHubRateLimitError)) throw error;
      return { mentions: [], cursor, notBefore: source.now() + (error.retryAfterMs ?? 0) };
    }
  }
  const mentions: MentionRequest[] = [];
  const progress: MentionsCursor = { since: previous.since, seen: [...previous.seen] };
  const handed = new Set(previous.seen);
  let notBefore: number | null = null;
  try {
    // Oldest first, so the cursor can move forward page by page even if a rate limit stops the reading.
    let page = await rest.page<GitHubComment[]>(ROUTE, { ...source.repoParams, since: previous.since, sort: 'created', direction: 'asc', per_page: 100 }, null, signal);
    for (;;) {
      for (const comment of page.data) {
        // `since` selects by update time: an old comment edited now is not a new request.
        if (comment.created_at < previous.since || handed.has(comment.id)) continue;
        handed.add(comment.id);
        if (comment.created_at > progress.since) {
          progress.since = comment.created_at;
          progress.seen = [];
        }
        progress.seen.push(comment.id);
        const mention = mentionFrom(source, comment);
        if (mention) mentions.push(mention);
      }
      if (!page.next) break;
      page = await rest.page<GitHubComment[]>(page.next, {}, null, signal);
    }
  } catch (error) {
    if (!(error instanceof GitHubRateLimitError)) throw error;
    notBefore = source.now() + (error.retryAfterMs ?? 0);
  }
  return { mentions, cursor: JSON.stringify(progress), notBefore: latest(notBefore, rest.notBefore) };
}

function mentionFrom(source: MentionsSource, comment: GitHubComment): MentionRequest | null {
  const body = comment.body ?? '';
  if (!mentionsOrch(body) || isStatusComment(body) || isMentionStatusComment(body) || !mayAsk(comment, source.authors)) return null;
  const issue = refFromApiUrl(comment.issue_url);
  if (!issue) return null;
  const repo = source.sameRepoAsConfigured(issue.repo);
  return {
    ref: commentRef(repo, issue.number, comment.id),
    issueRef: issueRef(repo, issue.number),
    author: comment.user?.login ?? '',
    title: mentionTitle(body, issue.number),
    body,
    labels: [],
    priority: 0,
    role: null,
    dependsOn: [],
    parent: null,
    ready: true,
    closed: false,
    url: comment.html_url,
    updatedAt: Date.parse(comment.updated_at),
  };
}

function parseMentionsCursor(cursor: string | null): MentionsCursor | null {
  if (!cursor) return null;
  try {
    const parsed = JSON.parse(cursor) as Partial<MentionsCursor>;
    if (typeof parsed.since !== 'string') return null;
    return { since: parsed.since, seen: Array.isArray(parsed.seen) ? parsed.seen.filter((id) => typeof id === 'number') : [] };
  } catch {
    return null;
  }
}
