// What the fake GitHub remembers of pull request reviews: reviews with their state, inline review
// comments (a thread is a first comment and the replies to it, `in_reply_to_id` naming the first), and
// whether each thread is resolved — which GitHub changes only through GraphQL (`resolveReviewThread`).

import { NotFoundError, ValidationError, type FakeClock, type IdSource } from './state.js';

export type ReviewState = 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'PENDING' | 'DISMISSED';
export const REVIEW_EVENTS = { APPROVE: 'APPROVED', REQUEST_CHANGES: 'CHANGES_REQUESTED', COMMENT: 'COMMENTED' } as const;

export interface ReviewRecord {
  id: number;
  pullNumber: number;
  author: string;
  state: ReviewState;
  body: string;
  commitId: string;
  submittedAt: number | null;
}

export interface ReviewCommentRecord {
  id: number;
  pullNumber: number;
  reviewId: number | null;
  author: string;
  body: string;
  path: string;
  line: number;
  side: 'LEFT' | 'RIGHT';
  commitId: string;
  /** The thread's first comment; null for the first comment itself. */
  inReplyTo: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface ThreadRecord {
  /** The id of the thread's first comment. */
  rootId: number;
  pullNumber: number;
  resolvedBy: string | null;
}

export interface InlineComment {
  path: string;
  line: number;
  body: string;
  side?: 'LEFT' | 'RIGHT';
}

export class FakeReviews {
  readonly reviews = new Map<number, ReviewRecord>();
  readonly comments = new Map<number, ReviewCommentRecord>();
  readonly threads = new Map<number, ThreadRecord>();

  constructor(
    private readonly clock: FakeClock,
    private readonly ids: IdSource,
  ) {}

  /** A submitted review (or a pending one, `PENDING`) with its inline comments, each opening a thread. */
  addReview(pullNumber: number, fields: { author: string; state: ReviewState; body?: string; commitId: string; comments?: InlineComment[] }): ReviewRecord {
    const at = this.clock.tick();
    const review: ReviewRecord = {
      id: this.ids.next(),
      pullNumber,
      author: fields.author,
      state: fields.state,
      body: fields.body ?? '',
      commitId: fields.commitId,
      submittedAt: fields.state === 'PENDING' ? null : at,
    };
    this.reviews.set(review.id, review);
    for (const comment of fields.comments ?? []) {
      this.addComment(pullNumber, { ...comment, author: fields.author, commitId: fields.commitId, reviewId: review.id });
    }
    return review;
  }

  /** A new inline comment opening a thread on `path` at `line`. */
  addComment(pullNumber: number, fields: InlineComment & { author: string; commitId: string; reviewId?: number | null }): ReviewCommentRecord {
    if (!Number.isInteger(fields.line) || fields.line < 1) {
      throw new ValidationError('Validation Failed', [{ resource: 'PullRequestReviewComment', code: 'invalid', field: 'line' }]);
    }
    const at = this.clock.tick();
    const comment: ReviewCommentRecord = {
      id: this.ids.next(),
      pullNumber,
      reviewId: fields.reviewId ?? null,
      author: fields.author,
      body: fields.body,
      path: fields.path,
      line: fields.line,
      side: fields.side ?? 'RIGHT',
      commitId: fields.commitId,
      inReplyTo: null,
      createdAt: at,
      updatedAt: at,
    };
    this.comments.set(comment.id, comment);
    this.threads.set(comment.id, { rootId: comment.id, pullNumber, resolvedBy: null });
    return comment;
  }

  /** A reply in the thread of `to` (a reply to a reply joins the same thread, as on GitHub). */
  reply(pullNumber: number, to: number, author: string, body: string): ReviewCommentRecord {
    const target = this.comments.get(to);
    if (!target || target.pullNumber !== pullNumber) throw new NotFoundError();
    const rootId = target.inReplyTo ?? target.id;
    const at = this.clock.tick();
    const reply: ReviewCommentRecord = { ...target, id: this.ids.next(), reviewId: null, author, body, inReplyTo: rootId, createdAt: at, updatedAt: at };
    this.comments.set(reply.id, reply);
    return reply;
  }

  reviewsOf(pullNumber: number): ReviewRecord[] {
    return [...this.reviews.values()].filter((review) => review.pullNumber === pullNumber);
  }

  commentsOf(pullNumber: number): ReviewCommentRecord[] {
    return [...this.comments.values()].filter((comment) => comment.pullNumber === pullNumber);
  }

  threadsOf(pullNumber: number): ThreadRecord[] {
    return [...this.threads.values()].filter((thread) => thread.pullNumber === pullNumber);
  }

  threadComments(rootId: number): ReviewCommentRecord[] {
    return [...this.comments.values()].filter((comment) => comment.id === rootId || comment.inReplyTo === rootId);
  }

  setResolved(rootId: number, by: string | null): ThreadRecord {
    const thread = this.threads.get(rootId);
    if (!thread) throw new NotFoundError();
    thread.resolvedBy = by;
    return thread;
  }

  /** Whether a reviewer's latest verdict on the pull request asks for changes: what blocks a merge. */
  changesRequested(pullNumber: number): boolean {
    const verdicts = new Map<string, ReviewState>();
    for (const review of this.reviewsOf(pullNumber)) {
      if (review.state === 'APPROVED' || review.state === 'CHANGES_REQUESTED' || review.state === 'DISMISSED') verdicts.set(review.author, review.state);
    }
    return [...verdicts.values()].includes('CHANGES_REQUESTED');
  }
}
