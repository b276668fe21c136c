// What the fake Linear remembers: one workspace of teams with their workflow states, labels, issues
// (with parents and "blocks" relations) and comments. The GraphQL resolvers and the tests change it
// through the same methods, so a test's setup looks to the tracker exactly like a person's edit in
// Linear. Ids are UUIDs as in Linear; every write moves the clock one second, so `updatedAt` values are
// strictly ordered and deterministic.

export const STATE_TYPES = ['triage', 'backlog', 'unstarted', 'started', 'completed', 'canceled'] as const;
export type StateType = (typeof STATE_TYPES)[number];

export interface TeamRecord {
  id: string;
  key: string;
  name: string;
  createdAt: number;
  updatedAt: number;
}

export interface WorkflowStateRecord {
  id: string;
  teamId: string;
  name: string;
  type: StateType;
  position: number;
  createdAt: number;
  updatedAt: number;
}

export interface LabelRecord {
  id: string;
  /** null: a workspace label, usable by every team. */
  teamId: string | null;
  name: string;
  createdAt: number;
  updatedAt: number;
}

export interface IssueRecord {
  id: string;
  teamId: string;
  number: number;
  title: string;
  description: string | null;
  /** Linear's scale: 0 none, 1 urgent, 2 high, 3 normal (medium), 4 low. */
  priority: number;
  stateId: string;
  labelIds: string[];
  parentId: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface RelationRecord {
  id: string;
  type: 'blocks' | 'duplicate' | 'related' | 'similar';
  /** For `blocks`: the issue that blocks. */
  issueId: string;
  /** For `blocks`: the issue that is blocked. */
  relatedIssueId: string;
  createdAt: number;
  updatedAt: number;
}

export interface CommentRecord {
  id: string;
  issueId: string;
  body: string;
  createdAt: number;
  updatedAt: number;
}

export interface NewIssue {
  team: string;
  title: string;
  description?: string | null;
  priority?: number;
  /** Workflow state name; default the team's first `unstarted` state. */
  state?: string;
  labels?: string[];
  /** Identifier of the parent issue. */
  parent?: string;
}

export interface IssueChanges {
  title?: string;
  description?: string | null;
  priority?: number;
  state?: string;
  labels?: string[];
  /** Identifier of the new parent; null: no parent. */
  parent?: string | null;
  /** Key of the team the issue moves to (it gets a new number and identifier there). */
  team?: string;
}

/** The workflow a new team starts with, as Linear creates it. */
export const DEFAULT_WORKFLOW: readonly { name: string; type: StateType }[] = [
  { name: 'Backlog', type: 'backlog' },
  { name: 'Todo', type: 'unstarted' },
  { name: 'In Progress', type: 'started' },
  { name: 'In Review', type: 'started' },
  { name: 'Done', type: 'completed' },
  { name: 'Canceled', type: 'canceled' },
  { name: 'Duplicate', type: 'canceled' },
];

/** A request Linear refuses with a user error (`INVALID_INPUT`), such as an id that names nothing. */
export class InvalidInputError extends Error {
  constructor(
    message: string,
    readonly userPresentableMessage: string,
  ) {
    super(message);
  }
}

export function entityNotFound(entity: string): InvalidInputError {
  return new InvalidInputError(`Entity not found: ${entity}`, `Could not find referenced ${entity}.`);
}

/** The fake's clock: it moves only when told, and every write moves it one second. */
export class FakeClock {
  constructor(private current: number) {}

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    this.current += ms;
  }

  tick(): number {
    this.current += 1000;
    return this.current;
  }
}

export class LinearWorkspace {
  /** The workspace's URL key: issue URLs are https://linear.app/<urlKey>/issue/<identifier>/<slug>. */
  readonly urlKey = 'acme';
  readonly teams = new Map<string, TeamRecord>();
  readonly states = new Map<string, WorkflowStateRecord>();
  readonly labels = new Map<string, LabelRecord>();
  readonly issues = new Map<string, IssueRecord>();
  readonly relations = new Map<string, RelationRecord>();
  readonly comments = new Map<string, CommentRecord>();
  /** Grows with every write, as Linear's sync id does. */
  lastSyncId = 1000;
  private lastId = 0;
  private readonly lastNumber = new Map<string, number>();

  constructor(readonly clock: FakeClock) {}

  /** A UUID v4 in form; deterministic, so failures reproduce. */
  newId(): string {
    this.lastId += 1;
    return `00000000-0000-4000-8000-${this.lastId.toString(16).padStart(12, '0')}`;
  }

  // ------------------------------------------------------------ teams, states, labels

  /** A team with Linear's default workflow, or the given states (to leave some out). */
  addTeam(key: string, options: { name?: string; states?: readonly { name: string; type: StateType }[] } = {}): TeamRecord {
    if (this.findTeam(key)) throw new Error(`team ${key} exists`);
    const at = this.clock.tick();
    const team: TeamRecord = { id: this.newId(), key, name: options.name ?? key, createdAt: at, updatedAt: at };
    this.teams.set(team.id, team);
    (options.states ?? DEFAULT_WORKFLOW).forEach((state, position) => {
      const record: WorkflowStateRecord = { id: this.newId(), teamId: team.id, name: state.name, type: state.type, position, createdAt: at, updatedAt: at };
      this.states.set(record.id, record);
    });
    return team;
  }

  findTeam(key: string): TeamRecord | undefined {
    return [...this.teams.values()].find((team) => team.key === key);
  }

  team(key: string): TeamRecord {
    const team = this.findTeam(key);
    if (!team) throw new Error(`no team ${key}`);
    return team;
  }

  statesOf(teamId: string): WorkflowStateRecord[] {
    return [...this.states.values()].filter((state) => state.teamId === teamId).sort((a, b) => a.position - b.position);
  }

  stateNamed(teamId: string, name: string): WorkflowStateRecord {
    const state = this.statesOf(teamId).find((candidate) => candidate.name.toLowerCase() === name.toLowerCase());
    if (!state) throw new Error(`no workflow state "${name}" in team ${this.teams.get(teamId)?.key}`);
    return state;
  }

  /** A team's label by name, else a workspace label, created as a team label when neither exists. */
  labelFor(teamId: string, name: string): LabelRecord {
    const labels = [...this.labels.values()].filter((label) => label.name.toLowerCase() === name.toLowerCase());
    const found = labels.find((label) => label.teamId === teamId) ?? labels.find((label) => label.teamId === null);
    if (found) return found;
    return this.addLabel(name, teamId);
  }

  addLabel(name: string, teamId: string | null): LabelRecord {
    const at = this.clock.tick();
    const label: LabelRecord = { id: this.newId(), teamId, name, createdAt: at, updatedAt: at };
    this.labels.set(label.id, label);
    return label;
  }

  // ------------------------------------------------------------ issues

  identifier(issue: IssueRecord): string {
    return `${this.teams.get(issue.teamId)?.key}-${issue.number}`;
  }

  /** By UUID or by identifier (ENG-12), as Linear's `issue(id:)` takes either. */
  findIssue(idOrIdentifier: string): IssueRecord | undefined {
    const byId = this.issues.get(idOrIdentifier);
    if (byId) return byId;
    const match = /^([^-]+)-(\d+)$/.exec(idOrIdentifier);
    if (!match) return undefined;
    const team = this.findTeam(match[1] as string);
    return [...this.issues.values()].find((issue) => issue.teamId === team?.id && issue.number === Number(match[2]));
  }

  issue(idOrIdentifier: string): IssueRecord {
    const issue = this.findIssue(idOrIdentifier);
    if (!issue) throw entityNotFound('Issue');
    return issue;
  }

  addIssue(fields: NewIssue): IssueRecord {
    const team = this.team(fields.team);
    const at = this.clock.tick();
    const state = fields.state ? this.stateNamed(team.id, fields.state) : this.statesOf(team.id).find((candidate) => candidate.type === 'unstarted');
    if (!state) throw new Error(`team ${team.key} has no unstarted state`);
    const issue: IssueRecord = {
      id: this.newId(),
      teamId: team.id,
      number: this.nextNumber(team.id),
      title: fields.title,
      description: fields.description ?? null,
      priority: fields.priority ?? 0,
      stateId: state.id,
      labelIds: (fields.labels ?? []).map((name) => this.labelFor(team.id, name).id),
      parentId: fields.parent ? this.issue(fields.parent).id : null,
      createdAt: at,
      updatedAt: at,
    };
    this.issues.set(issue.id, issue);
    this.lastSyncId += 1;
    return issue;
  }

  updateIssue(idOrIdentifier: string, changes: IssueChanges): IssueRecord {
    const issue = this.issue(idOrIdentifier);
    if (changes.team !== undefined) {
      const team = this.team(changes.team);
      if (team.id !== issue.teamId) {
        const position = this.states.get(issue.stateId)?.type;
        issue.teamId = team.id;
        issue.number = this.nextNumber(team.id);
        // A moved issue lands in the new team's first state of the same type, as in Linear.
        const sameType = this.statesOf(team.id).find((state) => state.type === position) ?? this.statesOf(team.id)[0];
        if (sameType) issue.stateId = sameType.id;
      }
    }
    if (changes.title !== undefined) issue.title = changes.title;
    if (changes.description !== undefined) issue.description = changes.description;
    if (changes.priority !== undefined) issue.priority = changes.priority;
    if (changes.state !== undefined) issue.stateId = this.stateNamed(issue.teamId, changes.state).id;
    if (changes.labels !== undefined) issue.labelIds = changes.labels.map((name) => this.labelFor(issue.teamId, name).id);
    if (changes.parent !== undefined) issue.parentId = changes.parent === null ? null : this.issue(changes.parent).id;
    this.touch(issue);
    return issue;
  }

  /** What the `issueUpdate` mutation does with its input. */
  applyIssueUpdate(
    idOrIdentifier: string,
    input: { stateId?: string | null; labelIds?: string[] | null; addedLabelIds?: string[] | null; removedLabelIds?: string[] | null; title?: string | null; description?: string | null; priority?: number | null },
  ): IssueRecord {
    const issue = this.issue(idOrIdentifier);
    if (input.stateId != null) {
      const state = this.states.get(input.stateId);
      if (!state || state.teamId !== issue.teamId) throw new InvalidInputError('Argument Validation Error', 'The workflow state does not belong to the issue\'s team.');
      issue.stateId = state.id;
    }
    const checkLabels = (ids: string[]) => {
      for (const id of ids) if (!this.labels.has(id)) throw entityNotFound('IssueLabel');
      return ids;
    };
    if (input.labelIds != null) issue.labelIds = [...new Set(checkLabels(input.labelIds))];
    if (input.addedLabelIds != null) issue.labelIds = [...new Set([...issue.labelIds, ...checkLabels(input.addedLabelIds)])];
    if (input.removedLabelIds != null) issue.labelIds = issue.labelIds.filter((id) => !input.removedLabelIds?.includes(id));
    if (input.title != null) issue.title = input.title;
    if (input.description !== undefined) issue.description = input.description;
    if (input.priority != null) {
      if (!Number.isInteger(input.priority) || input.priority < 0 || input.priority > 4) throw new InvalidInputError('Argument Validation Error', 'priority must be between 0 and 4.');
      issue.priority = input.priority;
    }
    this.touch(issue);
    return issue;
  }

  /** Records `blocker` blocking `blocked`: Linear's "blocks" relation, seen from the blocked issue as "blocked by". */
  addRelation(blocker: string, blocked: string, type: RelationRecord['type'] = 'blocks'): RelationRecord {
    const from = this.issue(blocker);
    const to = this.issue(blocked);
    const at = this.clock.tick();
    const relation: RelationRecord = { id: this.newId(), type, issueId: from.id, relatedIssueId: to.id, createdAt: at, updatedAt: at };
    this.relations.set(relation.id, relation);
    from.updatedAt = at;
    to.updatedAt = at;
    this.lastSyncId += 1;
    return relation;
  }

  childrenOf(issueId: string): IssueRecord[] {
    return [...this.issues.values()].filter((issue) => issue.parentId === issueId);
  }

  // ------------------------------------------------------------ comments

  addComment(idOrIdentifier: string, body: string): CommentRecord {
    const issue = this.issue(idOrIdentifier);
    const at = this.clock.tick();
    const comment: CommentRecord = { id: this.newId(), issueId: issue.id, body, createdAt: at, updatedAt: at };
    this.comments.set(comment.id, comment);
    issue.updatedAt = at;
    this.lastSyncId += 1;
    return comment;
  }

  updateComment(id: string, body: string): CommentRecord {
    const comment = this.comments.get(id);
    if (!comment) throw entityNotFound('Comment');
    comment.body = body;
    comment.updatedAt = this.clock.tick();
    this.lastSyncId += 1;
    return comment;
  }

  deleteComment(id: string): void {
    if (!this.comments.delete(id)) throw entityNotFound('Comment');
    this.lastSyncId += 1;
  }

  commentsOn(idOrIdentifier: string): CommentRecord[] {
    const issue = this.issue(idOrIdentifier);
    return [...this.comments.values()].filter((comment) => comment.issueId === issue.id);
  }

  private touch(issue: IssueRecord): void {
    issue.updatedAt = this.clock.tick();
    this.lastSyncId += 1;
  }

  private nextNumber(teamId: string): number {
    const number = (this.lastNumber.get(teamId) ?? 0) + 1;
    this.lastNumber.set(teamId, number);
    return number;
  }
}
