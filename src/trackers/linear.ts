// Linear issues as a tracker. sync reads the configured team's issues (carrying every configured label)
// through Linear's GraphQL API: the first time those in a ready workflow state, then only issues updated
// since the newest one seen, following the issues Orch was handed wherever they move (closed in a
// completed or canceled state, out of reach in another team, not ready elsewhere). An issue waits for
// the open issues that block it and, as a parent, for its open sub-issues; waiting issues are looked at
// again each sync, since a blocker closing does not touch the issue it blocks. report moves the issue
// through the configured workflow states and keeps one status comment. When Linear's rate limit is
// spent, sync returns what it read with `notBefore` and keeps its cursor, so nothing is lost; the other
// methods throw a TrackerError carrying `retryAfterMs`.

import { DEFAULT_LINEAR_API_URL, DEFAULT_LINEAR_READY_STATES, DEFAULT_LINEAR_STATE_MAP, type LinearTrackerConfig } from '../config/index.js';
import type { TaskState } from '../core/types.js';
import { hasBlockedLabel } from './github-issues.js';
import { roleFromLabels, statusComment } from './issue-conventions.js';
import { isNotFound, LinearGraphQL, LinearRateLimitError } from './linear-graphql.js';
import {
  identifierOf,
  inStates,
  isClosedStateType,
  isLinearStatusComment,
  issueFilter,
  issueRef,
  openDependencies,
  orchPriority,
  sameName,
} from './linear-issues.js';
import {
  COMMENTS_QUERY,
  CREATE_COMMENT_MUTATION,
  ISSUE_QUERY,
  ISSUES_QUERY,
  MOVE_ISSUE_MUTATION,
  REPORT_TARGET_QUERY,
  UPDATE_COMMENT_MUTATION,
  type CommentsAnswer,
  type CreateCommentAnswer,
  type IssueAnswer,
  type IssuesAnswer,
  type LinearIssueNode,
  type MoveIssueAnswer,
  type ReportTargetAnswer,
  type UpdateCommentAnswer,
} from './linear-queries.js';
import { TrackerError, type StatusReport, type SyncResult, type TrackedIssue, type Tracker } from './tracker.js';

export interface LinearTrackerOptions {
  /** The team's key, e.g. ENG. */
  team: string;
  /** Only issues carrying all of these. */
  labels?: string[];
  /** Workflow state names that mean ready. Default [Todo]. */
  states?: string[];
  /** The workflow state name each task state moves its issue to; a task state left out moves nothing. */
  stateMap?: Partial<Record<TaskState, string>>;
  apiKey: string;
  /** GraphQL endpoint. Default https://api.linear.app/graphql. */
  apiUrl?: string;
  now?: () => number;
  /** Told, once per team and state name, about a workflow state the team does not have. */
  onWarning?: (message: string) => void;
  /** Issues asked for per page. Default 50. */
  pageSize?: number;
}

interface SyncCursor {
  /** The newest `updatedAt` seen: the next sync asks for issues updated at or after it. */
  since: string | null;
  /** Ids of the issues seen updated exactly at `since`, already handed out. */
  seen: string[];
  /** Issues handed out and not closed since (id → ref): followed wherever their state goes. */
  known: Record<string, string>;
  /** Issues waiting on others (id → what they waited on when last reported). */
  waiting: Record<string, string[]>;
}

const DEFAULT_PAGE_SIZE = 50;
/** How many issues one recheck query names. */
const IDS_PER_QUERY = 50;
/**
 * How many followed issues a later sync names in its filter. Beyond this many open issues, the rest are
 * still seen while they stay in the team with their labels; only a move away goes unnoticed.
 */
const MAX_FOLLOWED_IDS = 250;

/** The tracker for a project's `tracker: {kind: linear}`, its API key read from the variable the config names. */
export function createLinearTracker(
  config: LinearTrackerConfig,
  options: { env: NodeJS.ProcessEnv; now?: () => number; onWarning?: (message: string) => void },
): LinearTracker {
  const apiKey = options.env[config.tokenEnv];
  if (!apiKey) throw new TrackerError(`Linear tracker for team ${config.team}: no API key in $${config.tokenEnv}`);
  return new LinearTracker({
    team: config.team,
    labels: config.labels,
    states: config.states,
    stateMap: config.stateMap,
    apiKey,
    apiUrl: config.apiUrl,
    now: options.now,
    onWarning: options.onWarning,
  });
}

export class LinearTracker implements Tracker {
  readonly kind = 'linear' as const;
  private readonly api: LinearGraphQL;
  private readonly team: string;
  private readonly labels: string[];
  private readonly states: string[];
  private readonly stateMap: Partial<Record<TaskState, string>>;
  private readonly pageSize: number;
  private readonly now: () => number;
  /** Reports on one issue run one at a time, so two never both create the status comment. */
  private readonly reporting = new Map<string, Promise<void>>();
  /** Missing workflow states already warned about (team/name). */
  private readonly warned = new Set<string>();

  constructor(private readonly options: LinearTrackerOptions) {
    this.team = options.team;
    this.labels = options.labels ?? [];
    this.states = options.states ?? [...DEFAULT_LINEAR_READY_STATES];
    this.stateMap = options.stateMap ?? { ...DEFAULT_LINEAR_STATE_MAP };
    this.pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    this.now = options.now ?? Date.now;
    this.api = new LinearGraphQL({ apiKey: options.apiKey, url: options.apiUrl ?? DEFAULT_LINEAR_API_URL, now: this.now });
  }

  // ------------------------------------------------------------------ sync

  async sync(cursor: string | null, signal?: AbortSignal): Promise<SyncResult> {
    const previous = parseSyncCursor(cursor);
    const firstSync = previous.since === null;
    const filter = firstSync ? issueFilter(this.team, this.labels, [inStates(this.states)]) : changedSince(previous, this.team, this.labels);
    const listed: LinearIssueNode[] = [];
    let stoppedBy = await this.readIssues(filter, listed, signal);

    const issues: TrackedIssue[] = [];
    const known = { ...previous.known };
    const waiting = { ...previous.waiting };
    const handedOut = new Set(previous.seen);
    const looked = new Set<string>();
    for (const node of listed) {
      if (node.updatedAt === previous.since && handedOut.has(node.id)) continue;
      // Later syncs see every changed issue of the team; only those Orch follows or may start matter.
      if (!firstSync && known[node.id] === undefined && !this.inReadyState(node)) continue;
      const tracked = this.track(node, known[node.id]);
      issues.push(tracked);
      remember(known, waiting, node.id, tracked);
      looked.add(node.id);
    }

    if (!stoppedBy) {
      const recheck = Object.keys(previous.waiting).filter((id) => !looked.has(id));
      const found: LinearIssueNode[] = [];
      stoppedBy = await this.readIssuesById(recheck, found, signal);
      if (!stoppedBy) {
        const byId = new Map(found.map((node) => [node.id, node]));
        for (const id of recheck) {
          const node = byId.get(id);
          if (!node) {
            // Deleted, archived or no longer visible to the key: nothing left to wait for or follow.
            delete waiting[id];
            delete known[id];
            continue;
          }
          const tracked = this.track(node, known[id]);
          remember(known, waiting, id, tracked);
          if (tracked.closed || !sameRefs(previous.waiting[id] ?? [], tracked.dependsOn)) issues.push(tracked);
        }
      }
    }

    if (stoppedBy) {
      // What was read is returned; the cursor stays, so the next sync reads the rest again.
      return { issues, cursor, notBefore: latest(this.now() + (stoppedBy.retryAfterMs ?? 0), this.api.notBefore) };
    }
    const next: SyncCursor = { ...advance(previous, listed), known, waiting };
    return { issues, cursor: JSON.stringify(next), notBefore: this.api.notBefore };
  }

  /**
   * Every page of issues matching `filter`, most recently updated first, appended to `into`. A rate
   * limit met between pages ends the reading early and is returned; what was read stays in `into`.
   * Newest first: an issue changing while the pages are read moves to page one, which only repeats an
   * issue on a later page, never skips one, and its new `updatedAt` is after the cursor's.
   */
  private async readIssues(filter: Record<string, unknown>, into: LinearIssueNode[], signal?: AbortSignal): Promise<LinearRateLimitError | null> {
    try {
      let after: string | null = null;
      do {
        const page: IssuesAnswer = await this.api.request<IssuesAnswer>(ISSUES_QUERY, { filter, first: this.pageSize, after }, signal);
        into.push(...page.issues.nodes);
        after = page.issues.pageInfo.hasNextPage ? page.issues.pageInfo.endCursor : null;
      } while (after);
      return null;
    } catch (error) {
      if (!(error instanceof LinearRateLimitError)) throw error;
      return error;
    }
  }

  private async readIssuesById(ids: string[], into: LinearIssueNode[], signal?: AbortSignal): Promise<LinearRateLimitError | null> {
    for (let start = 0; start < ids.length; start += IDS_PER_QUERY) {
      const stoppedBy = await this.readIssues({ id: { in: ids.slice(start, start + IDS_PER_QUERY) } }, into, signal);
      if (stoppedBy) return stoppedBy;
    }
    return null;
  }

  /** `knownRef`: the ref Orch already has for the issue, kept when a move to another team renames it. */
  private track(node: LinearIssueNode, knownRef?: string): TrackedIssue {
    const labels = node.labels.nodes.map((label) => label.name);
    const closed = isClosedStateType(node.state.type) || !this.withinReach(node, labels);
    const dependsOn = closed ? [] : openDependencies(node);
    return {
      ref: knownRef ?? issueRef(node.identifier),
      title: node.title,
      body: node.description ?? '',
      labels,
      priority: orchPriority(node.priority),
      role: roleFromLabels(labels),
      dependsOn,
      parent: node.parent ? issueRef(node.parent.identifier) : null,
      ready: !closed && this.inReadyState(node) && dependsOn.length === 0,
      readyButForDependencies: !closed && this.inReadyState(node) && dependsOn.length > 0 && !hasBlockedLabel(labels),
      closed,
      held: closed ? null : this.holdOf(node, labels, dependsOn),
      url: node.url,
      updatedAt: Date.parse(node.updatedAt),
    };
  }

  /** Still the configured team's and still carrying every configured label: moved elsewhere, it is not Orch's to work on. */
  private withinReach(node: LinearIssueNode, labels: string[]): boolean {
    return sameName(node.team.key, this.team) && this.labels.every((wanted) => labels.some((label) => sameName(label, wanted)));
  }

  /** Why a person holds the issue: a `blocked` label, an open blocker, or a state Orch neither starts from nor moves it to. */
  private holdOf(node: LinearIssueNode, labels: string[], dependsOn: string[]): string | null {
    if (hasBlockedLabel(labels)) return 'it carries the blocked label';
    if (dependsOn.length > 0) return `it is blocked by ${dependsOn.join(', ')}`;
    const ours = Object.values(this.stateMap).some((state) => state !== undefined && sameName(state, node.state.name));
    if (!this.inReadyState(node) && !ours) return `it was moved to ${node.state.name}`;
    return null;
  }

  private inReadyState(node: LinearIssueNode): boolean {
    return !isClosedStateType(node.state.type) && this.states.some((state) => sameName(state, node.state.name));
  }

  async lookUp(refs: readonly string[]): Promise<Map<string, TrackedIssue | null>> {
    const found = new Map<string, TrackedIssue | null>();
    for (const ref of refs) {
      const identifier = identifierOf(ref);
      if (!identifier) continue;
      try {
        const answer = await this.api.request<IssueAnswer>(ISSUE_QUERY, { id: identifier });
        found.set(ref, this.track(answer.issue, ref));
      } catch (error) {
        if (!isNotFound(error)) throw error;
        found.set(ref, null);
      }
    }
    return found;
  }

  // ------------------------------------------------------------------ claim and report

  /** Linear has no claim of its own: an issue still open is Orch's to take. */
  async claim(ref: string): Promise<boolean> {
    const identifier = this.ownIdentifier(ref);
    try {
      const answer = await this.api.request<IssueAnswer>(ISSUE_QUERY, { id: identifier });
      return !this.track(answer.issue).closed;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async report(ref: string, status: StatusReport): Promise<void> {
    const identifier = this.ownIdentifier(ref);
    const earlier = this.reporting.get(identifier) ?? Promise.resolve();
    const current = earlier.catch(() => undefined).then(() => this.writeReport(identifier, status));
    this.reporting.set(identifier, current);
    try {
      await current;
    } finally {
      if (this.reporting.get(identifier) === current) this.reporting.delete(identifier);
    }
  }

  private async writeReport(identifier: string, status: StatusReport): Promise<void> {
    const { issue } = await this.api.request<ReportTargetAnswer>(REPORT_TARGET_QUERY, { id: identifier });
    await this.moveIssue(issue, status.state);
    await this.writeStatusComment(issue, statusComment(status));
  }

  /** Moves the issue to the workflow state mapped to the task's state, if any and if the team has it. */
  private async moveIssue(issue: ReportTargetAnswer['issue'], state: TaskState): Promise<void> {
    const wanted = this.stateMap[state];
    if (!wanted || sameName(issue.state.name, wanted)) return;
    // A person closed it (or Linear did, on a merge), or moved it to another team: Orch's view of the
    // task never reopens, re-closes or moves it there.
    if (isClosedStateType(issue.state.type) || !sameName(issue.team.key, this.team)) return;
    const target = issue.team.states.nodes.find((candidate) => sameName(candidate.name, wanted));
    if (!target) {
      this.warnOnce(
        `${issue.team.key}/${wanted.toLowerCase()}`,
        `Linear team ${issue.team.key} has no workflow state "${wanted}" (state_map.${state}); ${issue.identifier} stays in "${issue.state.name}"`,
      );
      return;
    }
    const answer = await this.api.request<MoveIssueAnswer>(MOVE_ISSUE_MUTATION, { id: issue.id, stateId: target.id });
    if (!answer.issueUpdate.success) throw new TrackerError(`Linear did not move ${issue.identifier} to "${target.name}"`);
  }

  /** One status comment per issue: found by its marker (also after a restart), then edited in place. */
  private async writeStatusComment(issue: ReportTargetAnswer['issue'], body: string): Promise<void> {
    let comments = issue.comments;
    let found = comments.nodes.find((comment) => isLinearStatusComment(comment.body));
    while (!found && comments.pageInfo.hasNextPage && comments.pageInfo.endCursor) {
      const page = await this.api.request<CommentsAnswer>(COMMENTS_QUERY, { id: issue.id, after: comments.pageInfo.endCursor });
      comments = page.issue.comments;
      found = comments.nodes.find((comment) => isLinearStatusComment(comment.body));
    }
    // Linear may normalise the markdown it stores; the same text is not written again.
    if (found && found.body.trim() === body.trim()) return;
    if (found) {
      try {
        const answer = await this.api.request<UpdateCommentAnswer>(UPDATE_COMMENT_MUTATION, { id: found.id, body });
        if (!answer.commentUpdate.success) throw new TrackerError(`Linear did not update the status comment on ${issue.identifier}`);
        return;
      } catch (error) {
        if (!isNotFound(error)) throw error;
        // Someone deleted it meanwhile: write a new one.
      }
    }
    const answer = await this.api.request<CreateCommentAnswer>(CREATE_COMMENT_MUTATION, { issueId: issue.id, body });
    if (!answer.commentCreate.success) throw new TrackerError(`Linear did not create the status comment on ${issue.identifier}`);
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.options.onWarning?.(message);
  }

  /** The identifier of a Linear ref; anything else is a caller's mistake. */
  private ownIdentifier(ref: string): string {
    const identifier = identifierOf(ref);
    if (!identifier) throw new TrackerError(`not a Linear issue: ${ref}`);
    return identifier;
  }
}

function parseSyncCursor(cursor: string | null): SyncCursor {
  const empty: SyncCursor = { since: null, seen: [], known: {}, waiting: {} };
  if (!cursor) return empty;
  try {
    const parsed = JSON.parse(cursor) as Partial<SyncCursor>;
    const record = (value: unknown) => (typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {});
    return {
      since: typeof parsed.since === 'string' ? parsed.since : null,
      seen: Array.isArray(parsed.seen) ? parsed.seen.filter((id): id is string => typeof id === 'string') : [],
      known: record(parsed.known) as Record<string, string>,
      waiting: record(parsed.waiting) as Record<string, string[]>,
    };
  } catch {
    return empty; // an unreadable cursor costs one full sync, nothing more
  }
}

/**
 * A later sync's filter: issues changed since the cursor that are the team's and carry the labels, or
 * that Orch follows wherever they are now (so a move to another team or a label taken off is seen).
 */
function changedSince(previous: SyncCursor, team: string, labels: string[]): Record<string, unknown> {
  const followed = Object.keys(previous.known).slice(0, MAX_FOLLOWED_IDS);
  const selected = issueFilter(team, labels);
  return { updatedAt: { gte: previous.since }, or: followed.length > 0 ? [selected, { id: { in: followed } }] : [selected] };
}

/** The cursor's time moved to the newest issue listed, remembering which issues share that instant. */
function advance(previous: SyncCursor, listed: LinearIssueNode[]): Pick<SyncCursor, 'since' | 'seen'> {
  let since = previous.since;
  let seen = [...previous.seen];
  for (const node of listed) {
    if (since === null || Date.parse(node.updatedAt) > Date.parse(since)) {
      since = node.updatedAt;
      seen = [node.id];
    } else if (node.updatedAt === since && !seen.includes(node.id)) {
      seen.push(node.id);
    }
  }
  return { since, seen };
}

/** Notes what Orch now follows and what waits; a closed issue is neither. */
function remember(known: Record<string, string>, waiting: Record<string, string[]>, id: string, tracked: TrackedIssue): void {
  if (tracked.closed) {
    delete known[id];
    delete waiting[id];
    return;
  }
  known[id] = tracked.ref;
  if (tracked.dependsOn.length > 0) waiting[id] = tracked.dependsOn;
  else delete waiting[id];
}

function sameRefs(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((ref) => b.includes(ref));
}

function latest(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}
