// The fake Linear's resolvers: the root query and mutation fields, and one view class per object type
// whose properties and methods graphql-js reads as fields (its default resolver calls a method with the
// field's arguments). Lists are Linear's cursor connections: `first` (default 50, at most 250), `after`,
// `orderBy` (createdAt, the default, or updatedAt; newest first), with keyset cursors, so an item that
// changes while a client pages is neither skipped nor repeated on the pages it has not read yet.

import { IssueFilters } from './filters.js';
import {
  entityNotFound,
  InvalidInputError,
  type CommentRecord,
  type IssueRecord,
  type LabelRecord,
  type LinearWorkspace,
  type RelationRecord,
  type TeamRecord,
  type WorkflowStateRecord,
} from './state.js';

type Filter = Record<string, unknown>;

interface ConnectionArgs {
  after?: string | null;
  first?: number | null;
  filter?: Filter | null;
  orderBy?: 'createdAt' | 'updatedAt' | null;
  includeArchived?: boolean | null;
}

interface Timestamped {
  id: string;
  createdAt: number;
  updatedAt: number;
}

const DEFAULT_PAGE = 50;
const MAX_PAGE = 250;
const PRIORITY_LABELS = ['No priority', 'Urgent', 'High', 'Medium', 'Low'];

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** One page of a connection; `view` turns a record into the object graphql-js reads. */
function connection<R extends Timestamped, V>(records: R[], args: ConnectionArgs, view: (record: R) => V) {
  const first = args.first ?? DEFAULT_PAGE;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE) {
    throw new InvalidInputError('Argument Validation Error', `first must be a number between 0 and ${MAX_PAGE}.`);
  }
  const order = args.orderBy ?? 'createdAt';
  const sorted = [...records].sort((a, b) => compareKeys(keyOf(b, order), keyOf(a, order)));
  let start = 0;
  if (args.after) {
    const after = decodeCursor(args.after);
    start = sorted.findIndex((record) => compareKeys(keyOf(record, order), after) < 0);
    if (start < 0) start = sorted.length;
  }
  const page = sorted.slice(start, start + first);
  const last = page[page.length - 1];
  const firstOnPage = page[0];
  return {
    nodes: page.map(view),
    pageInfo: {
      hasNextPage: start + first < sorted.length,
      hasPreviousPage: start > 0,
      startCursor: firstOnPage ? encodeCursor(keyOf(firstOnPage, order)) : null,
      endCursor: last ? encodeCursor(keyOf(last, order)) : null,
    },
  };
}

type Key = [number, string];

function keyOf(record: Timestamped, order: 'createdAt' | 'updatedAt'): Key {
  return [record[order], record.id];
}

function compareKeys(a: Key, b: Key): number {
  return a[0] !== b[0] ? a[0] - b[0] : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}

function encodeCursor(key: Key): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeCursor(cursor: string): Key {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(key) && typeof key[0] === 'number' && typeof key[1] === 'string') return [key[0], key[1]];
  } catch {
    // fall through to the refusal below
  }
  throw new InvalidInputError('Argument Validation Error', 'The cursor is not valid.');
}

function slug(title: string): string {
  return title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60);
}

export class LinearGraph {
  private readonly filters: IssueFilters;

  constructor(private readonly workspace: LinearWorkspace) {
    this.filters = new IssueFilters(workspace);
  }

  /** The root value: query and mutation fields, which graphql-js calls with their arguments. */
  root() {
    const ws = this.workspace;
    return {
      issue: ({ id }: { id: string }) => this.issueView(ws.issue(id)),
      issues: (args: ConnectionArgs) => this.issueConnection([...ws.issues.values()], args),
      issueLabels: (args: ConnectionArgs) => this.labelConnection([...ws.labels.values()], args),
      team: ({ id }: { id: string }) => {
        const team = ws.teams.get(id);
        if (!team) throw entityNotFound('Team');
        return this.teamView(team);
      },
      teams: (args: ConnectionArgs) =>
        connection(
          [...ws.teams.values()].filter((team) => this.filters.team(team, args.filter)),
          args,
          (team) => this.teamView(team),
        ),
      workflowStates: (args: ConnectionArgs) => this.stateConnection([...ws.states.values()], args),
      issueUpdate: ({ id, input }: { id: string; input: Parameters<LinearWorkspace['applyIssueUpdate']>[1] }) => {
        const issue = ws.applyIssueUpdate(id, input);
        return { success: true, lastSyncId: ws.lastSyncId, issue: this.issueView(issue) };
      },
      commentCreate: ({ input }: { input: { body?: string | null; issueId?: string | null } }) => {
        if (!input.issueId) throw new InvalidInputError('Argument Validation Error', 'A comment needs an issue.');
        if (!input.body) throw new InvalidInputError('Argument Validation Error', 'A comment needs a body.');
        const comment = ws.addComment(input.issueId, input.body);
        return { success: true, lastSyncId: ws.lastSyncId, comment: this.commentView(comment) };
      },
      commentUpdate: ({ id, input }: { id: string; input: { body?: string | null } }) => {
        const existing = ws.comments.get(id);
        if (!existing) throw entityNotFound('Comment');
        const comment = input.body == null ? existing : ws.updateComment(id, input.body);
        return { success: true, lastSyncId: ws.lastSyncId, comment: this.commentView(comment) };
      },
    };
  }

  private issueConnection(records: IssueRecord[], args: ConnectionArgs) {
    return connection(
      records.filter((issue) => this.filters.issue(issue, args.filter)),
      args,
      (issue) => this.issueView(issue),
    );
  }

  private labelConnection(records: LabelRecord[], args: ConnectionArgs) {
    return connection(
      records.filter((label) => this.filters.label(label, args.filter)),
      args,
      (label) => this.labelView(label),
    );
  }

  private stateConnection(records: WorkflowStateRecord[], args: ConnectionArgs) {
    return connection(
      records.filter((state) => this.filters.state(state, args.filter)),
      args,
      (state) => this.stateView(state),
    );
  }

  private relationConnection(records: RelationRecord[], args: ConnectionArgs) {
    return connection(records, args, (relation) => this.relationView(relation));
  }

  issueView(issue: IssueRecord) {
    const ws = this.workspace;
    const team = ws.teams.get(issue.teamId) as TeamRecord;
    const identifier = ws.identifier(issue);
    return {
      id: issue.id,
      identifier,
      number: issue.number,
      title: issue.title,
      description: issue.description,
      priority: issue.priority,
      priorityLabel: PRIORITY_LABELS[issue.priority] ?? 'No priority',
      url: `https://linear.app/${ws.urlKey}/issue/${identifier}/${slug(issue.title)}`,
      createdAt: iso(issue.createdAt),
      updatedAt: iso(issue.updatedAt),
      state: () => this.stateView(ws.states.get(issue.stateId) as WorkflowStateRecord),
      team: () => this.teamView(team),
      parent: () => {
        const parent = issue.parentId === null ? undefined : ws.issues.get(issue.parentId);
        return parent ? this.issueView(parent) : null;
      },
      labels: (args: ConnectionArgs) =>
        this.labelConnection(
          issue.labelIds.map((id) => ws.labels.get(id)).filter((label): label is LabelRecord => label !== undefined),
          args,
        ),
      children: (args: ConnectionArgs) => this.issueConnection(ws.childrenOf(issue.id), args),
      relations: (args: ConnectionArgs) => this.relationConnection([...ws.relations.values()].filter((relation) => relation.issueId === issue.id), args),
      inverseRelations: (args: ConnectionArgs) =>
        this.relationConnection([...ws.relations.values()].filter((relation) => relation.relatedIssueId === issue.id), args),
      comments: (args: ConnectionArgs) =>
        connection(
          ws.commentsOn(issue.id).filter((comment) => this.filters.comment(comment, args.filter)),
          args,
          (comment) => this.commentView(comment),
        ),
    };
  }

  private teamView(team: TeamRecord) {
    const ws = this.workspace;
    return {
      id: team.id,
      key: team.key,
      name: team.name,
      createdAt: iso(team.createdAt),
      updatedAt: iso(team.updatedAt),
      states: (args: ConnectionArgs) => this.stateConnection(ws.statesOf(team.id), args),
      labels: (args: ConnectionArgs) => this.labelConnection([...ws.labels.values()].filter((label) => label.teamId === team.id), args),
    };
  }

  private stateView(state: WorkflowStateRecord) {
    return {
      id: state.id,
      name: state.name,
      type: state.type,
      position: state.position,
      createdAt: iso(state.createdAt),
      updatedAt: iso(state.updatedAt),
      team: () => this.teamView(this.workspace.teams.get(state.teamId) as TeamRecord),
    };
  }

  private labelView(label: LabelRecord) {
    return {
      id: label.id,
      name: label.name,
      createdAt: iso(label.createdAt),
      updatedAt: iso(label.updatedAt),
      team: () => (label.teamId === null ? null : this.teamView(this.workspace.teams.get(label.teamId) as TeamRecord)),
    };
  }

  private relationView(relation: RelationRecord) {
    const ws = this.workspace;
    return {
      id: relation.id,
      type: relation.type,
      createdAt: iso(relation.createdAt),
      updatedAt: iso(relation.updatedAt),
      issue: () => this.issueView(ws.issues.get(relation.issueId) as IssueRecord),
      relatedIssue: () => this.issueView(ws.issues.get(relation.relatedIssueId) as IssueRecord),
    };
  }

  private commentView(comment: CommentRecord) {
    const ws = this.workspace;
    const issue = ws.issues.get(comment.issueId);
    return {
      id: comment.id,
      body: comment.body,
      createdAt: iso(comment.createdAt),
      updatedAt: iso(comment.updatedAt),
      url: issue ? `https://linear.app/${ws.urlKey}/issue/${ws.identifier(issue)}#comment-${comment.id.slice(-8)}` : `https://linear.app/${ws.urlKey}`,
      issue: () => (issue ? this.issueView(issue) : null),
    };
  }
}
