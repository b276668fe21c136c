// GitHub's GraphQL API, as far as GitHub offers no REST for it: listing a pull request's review threads
// and resolving or unresolving one. Every request is parsed, validated and executed by graphql-js against
// github-schema.graphql (GitHub's schema reduced to those fields), so a query GitHub would refuse is
// refused here too. Answers take GitHub's form: HTTP 200 with `data` and `errors`, an error naming its
// `type` (`NOT_FOUND`, `FORBIDDEN`, `MISSING_PAGINATION_BOUNDARIES`).

import { readFileSync } from 'node:fs';
import { buildSchema, execute, parse, validate, type DocumentNode, type GraphQLError } from 'graphql';
import { nodeId } from './objects.js';
import type { ReviewCommentRecord, ThreadRecord } from './reviews.js';
import type { FakeRepository, IssueRecord } from './state.js';

export const GITHUB_SCHEMA_SDL = readFileSync(new URL('./github-schema.graphql', import.meta.url), 'utf8');
export const githubSchema = buildSchema(GITHUB_SCHEMA_SDL);

const MAX_PAGE = 100;

export interface GraphQLRequestBody {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
}

export interface GraphQLContext {
  /** Every repository the fake holds. */
  repositories: () => Iterable<FakeRepository>;
  /** Whose token made the request. */
  viewer: string;
  html: string;
}

interface PageArgs {
  first?: number | null;
  last?: number | null;
  after?: string | null;
}

/** Executes one request; `failures` collects resolver errors that are bugs of the fake rather than GitHub's answers. */
export async function answerGraphQL(body: GraphQLRequestBody, context: GraphQLContext, failures: string[]): Promise<{ data?: unknown; errors?: unknown[] }> {
  if (typeof body.query !== 'string') return { errors: [{ message: 'A query attribute must be specified and must be a string.' }] };
  let document: DocumentNode;
  try {
    document = parse(body.query);
  } catch (error) {
    return { errors: [{ message: (error as GraphQLError).message, locations: (error as GraphQLError).locations }] };
  }
  const invalid = validate(githubSchema, document);
  if (invalid.length > 0) return { errors: invalid.map((error) => ({ message: error.message, locations: error.locations })) };
  const result = await execute({
    schema: githubSchema,
    document,
    rootValue: new GitHubGraph(context),
    variableValues: typeof body.variables === 'object' && body.variables !== null ? (body.variables as Record<string, unknown>) : {},
    operationName: typeof body.operationName === 'string' ? body.operationName : undefined,
  });
  const errors = (result.errors ?? []).map((error) => {
    const type = error.originalError instanceof GitHubGraphQLError ? error.originalError.type : undefined;
    if (type === undefined) failures.push(`fake GitHub GraphQL failed at ${error.path?.join('.') ?? '?'}: ${error.message}`);
    return { type: type ?? 'INTERNAL', path: error.path, locations: error.locations, message: error.message };
  });
  return errors.length > 0 ? { data: result.data ?? null, errors } : { data: result.data };
}

/** An error GitHub itself answers, with its `type`. */
class GitHubGraphQLError extends Error {
  constructor(
    readonly type: 'NOT_FOUND' | 'FORBIDDEN' | 'MISSING_PAGINATION_BOUNDARIES' | 'EXCESSIVE_PAGINATION',
    message: string,
  ) {
    super(message);
  }
}

/** The root Query and Mutation fields; graphql-js reads each view's properties and methods as fields. */
class GitHubGraph {
  constructor(private readonly context: GraphQLContext) {}

  repository({ owner, name }: { owner: string; name: string }) {
    for (const repo of this.context.repositories()) {
      if (repo.fullName.toLowerCase() === `${owner}/${name}`.toLowerCase()) return new RepositoryView(repo, this.context);
    }
    throw new GitHubGraphQLError('NOT_FOUND', `Could not resolve to a Repository with the name '${owner}/${name}'.`);
  }

  node({ id }: { id: string }) {
    const found = this.findThread(id);
    return found ? new ThreadView(found.repo, found.thread, this.context) : null;
  }

  resolveReviewThread({ input }: { input: { threadId: string; clientMutationId?: string | null } }) {
    return this.setResolved(input, true);
  }

  unresolveReviewThread({ input }: { input: { threadId: string; clientMutationId?: string | null } }) {
    return this.setResolved(input, false);
  }

  private setResolved(input: { threadId: string; clientMutationId?: string | null }, resolved: boolean) {
    const found = this.findThread(input.threadId);
    if (!found) throw new GitHubGraphQLError('NOT_FOUND', `Could not resolve to a node with the global id of '${input.threadId}'`);
    if (!canResolve(found.repo, found.thread, this.context.viewer)) {
      throw new GitHubGraphQLError('FORBIDDEN', `${this.context.viewer} does not have permission to resolve this review thread.`);
    }
    found.repo.reviews.setResolved(found.thread.rootId, resolved ? this.context.viewer : null);
    return { clientMutationId: input.clientMutationId ?? null, thread: new ThreadView(found.repo, found.thread, this.context) };
  }

  private findThread(id: string): { repo: FakeRepository; thread: ThreadRecord } | undefined {
    for (const repo of this.context.repositories()) {
      for (const thread of repo.reviews.threads.values()) if (threadId(thread) === id) return { repo, thread };
    }
    return undefined;
  }
}

/** Who may resolve a thread: someone with write access, or the pull request's author. */
function canResolve(repo: FakeRepository, thread: ThreadRecord, viewer: string): boolean {
  return repo.association(viewer) !== 'CONTRIBUTOR' || repo.issue(thread.pullNumber).author === viewer;
}

const threadId = (thread: ThreadRecord) => nodeId('PRRT', thread.rootId);

class RepositoryView {
  readonly __typename = 'Repository';
  readonly id: string;
  readonly name: string;
  readonly nameWithOwner: string;

  constructor(
    private readonly repo: FakeRepository,
    private readonly context: GraphQLContext,
  ) {
    this.id = nodeId('R', repo.id);
    this.name = repo.name;
    this.nameWithOwner = repo.fullName;
  }

  pullRequest({ number }: { number: number }) {
    const issue = this.repo.issues.get(number);
    if (!issue?.pull) throw new GitHubGraphQLError('NOT_FOUND', `Could not resolve to a PullRequest with the number of ${number}.`);
    return new PullRequestView(this.repo, issue, this.context);
  }
}

class PullRequestView {
  readonly __typename = 'PullRequest';
  readonly id: string;
  readonly number: number;
  readonly title: string;

  constructor(
    private readonly repo: FakeRepository,
    private readonly issue: IssueRecord,
    private readonly context: GraphQLContext,
  ) {
    this.id = nodeId('PR', issue.id);
    this.number = issue.number;
    this.title = issue.title;
  }

  reviewThreads(args: PageArgs) {
    const threads = this.repo.reviews.threadsOf(this.issue.number).sort((a, b) => a.rootId - b.rootId);
    return page(threads, args, 'reviewThreads', (thread) => new ThreadView(this.repo, thread, this.context));
  }
}

class ThreadView {
  readonly __typename = 'PullRequestReviewThread';
  readonly id: string;
  readonly isResolved: boolean;
  readonly isCollapsed: boolean;
  readonly isOutdated: boolean;
  readonly path: string;
  readonly line: number;
  readonly diffSide: 'LEFT' | 'RIGHT';
  readonly resolvedBy: UserView | null;
  readonly viewerCanResolve: boolean;
  readonly viewerCanUnresolve: boolean;

  constructor(
    private readonly repo: FakeRepository,
    private readonly thread: ThreadRecord,
    private readonly context: GraphQLContext,
  ) {
    const first = this.firstComment();
    this.id = threadId(thread);
    this.isResolved = thread.resolvedBy !== null;
    this.isCollapsed = this.isResolved;
    this.isOutdated = first.commitId !== repo.pull(thread.pullNumber).pull.headSha;
    this.path = first.path;
    this.line = first.line;
    this.diffSide = first.side;
    this.resolvedBy = thread.resolvedBy === null ? null : new UserView(thread.resolvedBy, context.html);
    const allowed = canResolve(repo, thread, context.viewer);
    this.viewerCanResolve = allowed && !this.isResolved;
    this.viewerCanUnresolve = allowed && this.isResolved;
  }

  pullRequest() {
    return new PullRequestView(this.repo, this.repo.issue(this.thread.pullNumber), this.context);
  }

  comments(args: PageArgs & { skip?: number | null }) {
    const comments = this.repo.reviews.threadComments(this.thread.rootId).sort((a, b) => a.id - b.id).slice(args.skip ?? 0);
    return page(comments, args, 'comments', (comment) => new CommentView(this.repo, comment, this.context));
  }

  private firstComment(): ReviewCommentRecord {
    const first = this.repo.reviews.comments.get(this.thread.rootId);
    if (!first) throw new Error(`thread ${this.thread.rootId} has no first comment`);
    return first;
  }
}

class CommentView {
  readonly __typename = 'PullRequestReviewComment';
  readonly id: string;
  readonly fullDatabaseId: string;
  readonly body: string;
  readonly path: string;
  readonly line: number;
  readonly url: string;
  readonly author: UserView;

  constructor(
    private readonly repo: FakeRepository,
    private readonly comment: ReviewCommentRecord,
    private readonly context: GraphQLContext,
  ) {
    this.id = nodeId('PRRC', comment.id);
    this.fullDatabaseId = String(comment.id);
    this.body = comment.body;
    this.path = comment.path;
    this.line = comment.line;
    this.url = `${context.html}/${repo.fullName}/pull/${comment.pullNumber}#discussion_r${comment.id}`;
    this.author = new UserView(comment.author, context.html);
  }

  replyTo() {
    const to = this.comment.inReplyTo === null ? undefined : this.repo.reviews.comments.get(this.comment.inReplyTo);
    return to ? new CommentView(this.repo, to, this.context) : null;
  }
}

class UserView {
  readonly __typename = 'User';
  readonly id: string;
  readonly resourcePath: string;
  readonly url: string;
  readonly avatarUrl: string;

  constructor(
    readonly login: string,
    html: string,
  ) {
    this.id = `U_${Buffer.from(`fake:${login}`).toString('base64url')}`;
    this.resourcePath = `/${login}`;
    this.url = `${html}/${login}`;
    this.avatarUrl = `https://avatars.githubusercontent.com/${login}`;
  }
}

/** GitHub's cursor connections: `first` or `last` is required, at most 100; `after` is an opaque cursor. */
function page<R, V>(records: R[], args: PageArgs, field: string, view: (record: R) => V) {
  const size = args.first ?? args.last;
  if (size === undefined || size === null) {
    throw new GitHubGraphQLError('MISSING_PAGINATION_BOUNDARIES', `You must provide a \`first\` or \`last\` value to properly paginate the \`${field}\` connection.`);
  }
  if (size < 0 || size > MAX_PAGE) {
    throw new GitHubGraphQLError('EXCESSIVE_PAGINATION', `Requesting ${size} records on the \`${field}\` connection exceeds the \`first\` limit of ${MAX_PAGE} records.`);
  }
  const start = args.after ? Number(Buffer.from(args.after, 'base64').toString('utf8').replace(/^cursor:/, '')) : 0;
  const from = args.first === undefined || args.first === null ? Math.max(start, records.length - size) : start;
  const slice = records.slice(from, from + size);
  const cursor = (index: number) => Buffer.from(`cursor:${index}`).toString('base64');
  return {
    nodes: slice.map(view),
    totalCount: records.length,
    pageInfo: {
      startCursor: slice.length > 0 ? cursor(from) : null,
      endCursor: slice.length > 0 ? cursor(from + slice.length) : null,
      hasNextPage: from + slice.length < records.length,
      hasPreviousPage: from > 0,
    },
  };
}
