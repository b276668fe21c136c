// Pull request reviews, inline review comments and their replies, and merging a pull request through
// the API (refused while it conflicts or a reviewer asks for changes, as a protected branch would).

import { REVIEW_EVENTS, type InlineComment, type ReviewState } from './reviews.js';
import { ReviewObjects } from './review-objects.js';
import { DOCUMENTATION_URL, invalid, record, requiredString, type Route } from './routes.js';
import type { PullRecord } from './state.js';

const MERGE_METHODS: readonly PullRecord['mergeMethod'][] = ['merge', 'squash', 'rebase'];

/** GitHub's 422 with plain-text errors (`validation-error-simple`), as the reviews endpoint answers. */
const unprocessable = (reason: string) => ({ status: 422, body: { message: 'Unprocessable Entity', errors: [reason], documentation_url: DOCUMENTATION_URL, status: '422' } });

export const REVIEW_ROUTES: Route[] = [
  {
    method: 'GET',
    template: '/repos/{owner}/{repo}/pulls/{pull_number}/reviews',
    handle: ({ repo, params, objects }) => {
      const number = repo.pull(Number(params.pull_number)).number;
      const views = new ReviewObjects(objects);
      return { status: 200, items: repo.reviews.reviewsOf(number).sort((a, b) => a.id - b.id).map((review) => views.review(repo, review)) };
    },
  },
  {
    method: 'POST',
    template: '/repos/{owner}/{repo}/pulls/{pull_number}/reviews',
    handle: ({ repo, params, body, login, objects }) => {
      const issue = repo.pull(Number(params.pull_number));
      const fields = record(body);
      const event = fields.event;
      if (event !== undefined && !(typeof event === 'string' && event in REVIEW_EVENTS)) throw invalid('PullRequestReview', 'event', 'invalid');
      const state: ReviewState = event === undefined ? 'PENDING' : REVIEW_EVENTS[event as keyof typeof REVIEW_EVENTS];
      const text = typeof fields.body === 'string' ? fields.body : '';
      const comments = inlineComments(fields.comments);
      if (state !== 'PENDING' && issue.author === login && state !== 'COMMENTED') {
        return unprocessable(state === 'APPROVED' ? 'Can not approve your own pull request' : 'Can not request changes on your own pull request');
      }
      if ((state === 'CHANGES_REQUESTED' || (state === 'COMMENTED' && comments.length === 0)) && text.trim() === '') {
        return unprocessable(`Review body is required when the event is ${String(event)}`);
      }
      const review = repo.addReview(issue.number, { author: login, state, body: text, comments });
      return { status: 200, body: new ReviewObjects(objects).review(repo, review) };
    },
  },
  {
    method: 'GET',
    template: '/repos/{owner}/{repo}/pulls/{pull_number}/comments',
    handle: ({ repo, params, objects }) => {
      const number = repo.pull(Number(params.pull_number)).number;
      const views = new ReviewObjects(objects);
      return { status: 200, items: repo.reviews.commentsOf(number).sort((a, b) => a.id - b.id).map((comment) => views.comment(repo, comment)) };
    },
  },
  {
    method: 'POST',
    template: '/repos/{owner}/{repo}/pulls/{pull_number}/comments',
    handle: ({ repo, params, body, login, objects }) => {
      const issue = repo.pull(Number(params.pull_number));
      const fields = record(body);
      const text = requiredString(fields, 'body', 'PullRequestReviewComment');
      // With in_reply_to every other parameter is ignored, as GitHub documents.
      const comment =
        fields.in_reply_to !== undefined
          ? repo.reviews.reply(issue.number, Number(fields.in_reply_to), login, text)
          : repo.reviews.addComment(issue.number, { ...inlineComment(fields), body: text, author: login, commitId: requiredString(fields, 'commit_id', 'PullRequestReviewComment') });
      return { status: 201, body: new ReviewObjects(objects).comment(repo, comment) };
    },
  },
  {
    method: 'POST',
    template: '/repos/{owner}/{repo}/pulls/{pull_number}/comments/{comment_id}/replies',
    handle: ({ repo, params, body, login, objects }) => {
      const issue = repo.pull(Number(params.pull_number));
      const text = requiredString(record(body), 'body', 'PullRequestReviewComment');
      return { status: 201, body: new ReviewObjects(objects).comment(repo, repo.reviews.reply(issue.number, Number(params.comment_id), login, text)) };
    },
  },
  {
    method: 'PUT',
    template: '/repos/{owner}/{repo}/pulls/{pull_number}/merge',
    handle: ({ repo, params, body, login }) => {
      const issue = repo.pull(Number(params.pull_number));
      const fields = body === undefined ? {} : record(body);
      const method = (fields.merge_method ?? 'merge') as PullRecord['mergeMethod'];
      if (!MERGE_METHODS.includes(method)) throw invalid('PullRequest', 'merge_method', 'invalid');
      const refuse = (status: number, message: string) => ({ status, body: { message, documentation_url: DOCUMENTATION_URL } });
      if (issue.state !== 'open') return refuse(405, 'Pull Request is not mergeable');
      if (typeof fields.sha === 'string' && fields.sha !== issue.pull.headSha) return refuse(409, 'Head branch was modified. Review and try the merge again.');
      // The base is treated as protected: a reviewer asking for changes blocks the merge, failing CI does not.
      const state = repo.mergeState(issue.number);
      if (state === 'dirty' || state === 'blocked') return refuse(405, 'Pull Request is not mergeable');
      repo.mergePull(issue.number, login, method);
      return { status: 200, body: { sha: issue.pull.mergeCommitSha, merged: true, message: 'Pull Request successfully merged' } };
    },
  },
];

function inlineComments(value: unknown): InlineComment[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalid('PullRequestReview', 'comments', 'invalid');
  return value.map((entry) => {
    const fields = record(entry);
    return { ...inlineComment(fields), body: requiredString(fields, 'body', 'PullRequestReviewComment') };
  });
}

function inlineComment(fields: Record<string, unknown>): Omit<InlineComment, 'body'> {
  const path = requiredString(fields, 'path', 'PullRequestReviewComment');
  const line = fields.line;
  if (typeof line !== 'number') throw invalid('PullRequestReviewComment', 'line', 'missing_field');
  const side = fields.side === 'LEFT' ? 'LEFT' : 'RIGHT';
  return { path, line, side };
}
