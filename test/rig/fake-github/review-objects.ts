// Reviews and inline review comments rendered as GitHub's REST objects.

import { nodeId, timestamp, type GitHubObjects } from './objects.js';
import type { ReviewCommentRecord, ReviewRecord } from './reviews.js';
import type { FakeRepository } from './state.js';

export class ReviewObjects {
  constructor(private readonly objects: GitHubObjects) {}

  review(repo: FakeRepository, review: ReviewRecord): Record<string, unknown> {
    const pullUrl = `${this.objects.repoUrl(repo)}/pulls/${review.pullNumber}`;
    const html = `${this.objects.issueHtmlUrl(repo, repo.issue(review.pullNumber))}#pullrequestreview-${review.id}`;
    const object: Record<string, unknown> = {
      id: review.id,
      node_id: nodeId('PRR', review.id),
      user: this.objects.user(review.author),
      body: review.body,
      state: review.state,
      html_url: html,
      pull_request_url: pullUrl,
      _links: { html: { href: html }, pull_request: { href: pullUrl } },
      commit_id: review.commitId,
      author_association: repo.association(review.author),
    };
    if (review.submittedAt !== null) object.submitted_at = timestamp(review.submittedAt);
    return object;
  }

  comment(repo: FakeRepository, comment: ReviewCommentRecord): Record<string, unknown> {
    const url = `${this.objects.repoUrl(repo)}/pulls/comments/${comment.id}`;
    const pullUrl = `${this.objects.repoUrl(repo)}/pulls/${comment.pullNumber}`;
    const html = `${this.objects.issueHtmlUrl(repo, repo.issue(comment.pullNumber))}#discussion_r${comment.id}`;
    const object: Record<string, unknown> = {
      url,
      pull_request_review_id: comment.reviewId,
      id: comment.id,
      node_id: nodeId('PRRC', comment.id),
      diff_hunk: `@@ -${comment.line},1 +${comment.line},1 @@`,
      path: comment.path,
      commit_id: comment.commitId,
      original_commit_id: comment.commitId,
      user: this.objects.user(comment.author),
      body: comment.body,
      created_at: timestamp(comment.createdAt),
      updated_at: timestamp(comment.updatedAt),
      html_url: html,
      pull_request_url: pullUrl,
      author_association: repo.association(comment.author),
      _links: { self: { href: url }, html: { href: html }, pull_request: { href: pullUrl } },
      line: comment.line,
      original_line: comment.line,
      side: comment.side,
      subject_type: 'line',
      reactions: { url: `${url}/reactions`, total_count: 0, '+1': 0, '-1': 0, laugh: 0, hooray: 0, confused: 0, heart: 0, rocket: 0, eyes: 0 },
    };
    if (comment.inReplyTo !== null) object.in_reply_to_id = comment.inReplyTo;
    return object;
  }
}
