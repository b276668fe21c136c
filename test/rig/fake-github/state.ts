// What the fake GitHub remembers: users, and per repository its issues (pull requests are issues with a
// `pull` part, sharing the numbering as on GitHub), labels, comments, sub-issue links, branch heads, CI
// (checks.ts) and reviews (reviews.ts). Routes and tests change it through the same methods, so a test's
// setup looks to the tracker exactly like a person's edit.

import { FakeChecks, type CheckRunScript, type JobRecord } from './checks.js';
import { FakeReviews, type InlineComment, type ReviewRecord, type ReviewState } from './reviews.js';

export interface UserRecord {
  login: string;
  id: number;
  type: 'User' | 'Bot';
}

export interface LabelRecord {
  id: number;
  name: string;
  color: string;
  description: string | null;
}

export interface PullRecord {
  head: string;
  base: string;
  headSha: string;
  merged: boolean;
  mergedAt: number | null;
  mergeCommitSha: string | null;
  draft: boolean;
  /** false: the head conflicts with the base (`mergeable_state: dirty`); a test sets it. */
  mergeable: boolean;
  mergeMethod: 'merge' | 'squash' | 'rebase' | null;
}

/** GitHub's `mergeable_state` values the fake gives an open pull request. */
export type MergeState = 'clean' | 'dirty' | 'blocked' | 'unstable';

export interface IssueRecord {
  id: number;
  number: number;
  title: string;
  body: string | null;
  author: string;
  /** Label names, in the order they were added. */
  labels: string[];
  assignees: string[];
  state: 'open' | 'closed';
  stateReason: 'completed' | 'reopened' | 'not_planned' | 'duplicate' | null;
  closedBy: string | null;
  createdAt: number;
  updatedAt: number;
  closedAt: number | null;
  /** Numbers of its sub-issues, in the order they were added. */
  subIssues: number[];
  parent: number | null;
  pull: PullRecord | null;
}

export interface CommentRecord {
  id: number;
  issueNumber: number;
  author: string;
  body: string;
  createdAt: number;
  updatedAt: number;
}

export interface NewIssue {
  title: string;
  body?: string | null;
  author?: string;
  labels?: string[];
  assignees?: string[];
  state?: 'open' | 'closed';
}

export interface IssueChanges {
  title?: string;
  body?: string | null;
  labels?: string[];
  assignees?: string[];
  state?: 'open' | 'closed';
  stateReason?: IssueRecord['stateReason'];
}

/** The fake's clock: it moves only when told, and every write moves it one second so timestamps are strictly ordered. */
export class FakeClock {
  constructor(private current: number) {}

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    this.current += ms;
  }

  /** A write's timestamp: one second after the previous one, like GitHub's whole-second timestamps. */
  tick(): number {
    this.current += 1000;
    return this.current;
  }
}

/** Ids are unique across every kind of object, as GitHub's database ids effectively are to a client. */
export class IdSource {
  private last = 1_000_000;

  next(): number {
    this.last += 1;
    return this.last;
  }
}

export class FakeUsers {
  private readonly byLogin = new Map<string, UserRecord>();

  constructor(private readonly ids: IdSource) {}

  get(login: string): UserRecord {
    let user = this.byLogin.get(login);
    if (!user) {
      user = { login, id: this.ids.next(), type: login.endsWith('[bot]') ? 'Bot' : 'User' };
      this.byLogin.set(login, user);
    }
    return user;
  }
}

/** GitHub's 404; the message is the one GitHub gives. */
export class NotFoundError extends Error {
  constructor(message = 'Not Found') {
    super(message);
  }
}
export class ValidationError extends Error {
  constructor(
    message: string,
    readonly errors: { resource: string; code: string; field?: string; message?: string }[],
  ) {
    super(message);
  }
}

export class FakeRepository {
  readonly id: number;
  readonly createdAt: number;
  readonly issues = new Map<number, IssueRecord>();
  readonly labels = new Map<string, LabelRecord>();
  readonly comments = new Map<number, CommentRecord>();
  /** Logins with write access besides the owner: GitHub calls their comments' author_association COLLABORATOR. */
  readonly collaborators = new Set<string>();
  /** Branch name → the sha of its tip. */
  readonly branches = new Map<string, string>();
  readonly ci: FakeChecks;
  readonly reviews: FakeReviews;
  private lastNumber = 0;
  private pushes = 0;

  constructor(
    readonly owner: string,
    readonly name: string,
    private readonly clock: FakeClock,
    private readonly ids: IdSource,
    readonly defaultBranch = 'main',
  ) {
    this.id = ids.next();
    this.createdAt = clock.now();
    this.ci = new FakeChecks(clock, ids);
    this.reviews = new FakeReviews(clock, ids);
  }

  /** Gives `login` write access: their comments and reviews count as a COLLABORATOR's. */
  addCollaborator(login: string): void {
    this.collaborators.add(login);
  }

  /** How GitHub describes an author's relation to the repository (the subset the fake needs). */
  association(login: string): 'OWNER' | 'COLLABORATOR' | 'CONTRIBUTOR' {
    if (login.toLowerCase() === this.owner.toLowerCase()) return 'OWNER';
    return this.collaborators.has(login) ? 'COLLABORATOR' : 'CONTRIBUTOR';
  }

  get fullName(): string {
    return `${this.owner}/${this.name}`;
  }

  issue(number: number): IssueRecord {
    const issue = this.issues.get(number);
    if (!issue) throw new NotFoundError();
    return issue;
  }

  addIssue(fields: NewIssue): IssueRecord {
    const at = this.clock.tick();
    const issue: IssueRecord = {
      id: this.ids.next(),
      number: ++this.lastNumber,
      title: fields.title,
      body: fields.body ?? null,
      author: fields.author ?? 'octocat',
      labels: [],
      assignees: [...(fields.assignees ?? [])],
      state: 'open',
      stateReason: null,
      closedBy: null,
      createdAt: at,
      updatedAt: at,
      closedAt: null,
      subIssues: [],
      parent: null,
      pull: null,
    };
    for (const name of fields.labels ?? []) this.attachLabel(issue, name);
    this.issues.set(issue.number, issue);
    if (fields.state === 'closed') this.updateIssue(issue.number, { state: 'closed' });
    return issue;
  }

  updateIssue(number: number, changes: IssueChanges, by = 'octocat'): IssueRecord {
    const issue = this.issue(number);
    if (changes.title !== undefined) issue.title = changes.title;
    if (changes.body !== undefined) issue.body = changes.body;
    if (changes.assignees !== undefined) issue.assignees = [...changes.assignees];
    if (changes.labels !== undefined) {
      issue.labels = [];
      for (const name of changes.labels) this.attachLabel(issue, name);
    }
    const at = this.clock.tick();
    if (changes.state !== undefined && changes.state !== issue.state) {
      issue.state = changes.state;
      issue.closedAt = changes.state === 'closed' ? at : null;
      issue.closedBy = changes.state === 'closed' ? by : null;
      issue.stateReason = changes.state === 'closed' ? (changes.stateReason ?? 'completed') : 'reopened';
    } else if (changes.stateReason !== undefined) {
      issue.stateReason = changes.stateReason;
    }
    issue.updatedAt = at;
    return issue;
  }

  createLabel(name: string, color = 'ededed', description: string | null = null): LabelRecord {
    if (this.findLabel(name)) {
      throw new ValidationError('Validation Failed', [{ resource: 'Label', code: 'already_exists', field: 'name' }]);
    }
    const label: LabelRecord = { id: this.ids.next(), name, color, description };
    this.labels.set(name.toLowerCase(), label);
    return label;
  }

  findLabel(name: string): LabelRecord | undefined {
    return this.labels.get(name.toLowerCase());
  }

  /** Adds labels, creating the ones the repository lacks, as GitHub does. */
  addLabels(number: number, names: string[]): IssueRecord {
    const issue = this.issue(number);
    for (const name of names) this.attachLabel(issue, name);
    issue.updatedAt = this.clock.tick();
    return issue;
  }

  removeLabel(number: number, name: string): IssueRecord {
    const issue = this.issue(number);
    const index = issue.labels.findIndex((label) => label.toLowerCase() === name.toLowerCase());
    if (index < 0) throw new NotFoundError('Label does not exist');
    issue.labels.splice(index, 1);
    issue.updatedAt = this.clock.tick();
    return issue;
  }

  addComment(number: number, author: string, body: string): CommentRecord {
    const issue = this.issue(number);
    const at = this.clock.tick();
    const comment: CommentRecord = { id: this.ids.next(), issueNumber: number, author, body, createdAt: at, updatedAt: at };
    this.comments.set(comment.id, comment);
    issue.updatedAt = at;
    return comment;
  }

  updateComment(id: number, body: string): CommentRecord {
    const comment = this.comments.get(id);
    if (!comment) throw new NotFoundError();
    comment.body = body;
    comment.updatedAt = this.clock.tick();
    return comment;
  }

  commentsOn(number: number): CommentRecord[] {
    this.issue(number);
    return [...this.comments.values()].filter((comment) => comment.issueNumber === number);
  }

  addSubIssue(parentNumber: number, childNumber: number): IssueRecord {
    const parent = this.issue(parentNumber);
    const child = this.issue(childNumber);
    if (child.parent !== null || parentNumber === childNumber) {
      throw new ValidationError('Validation Failed', [{ resource: 'Issue', code: 'custom', field: 'sub_issue_id', message: 'Issue may not contain duplicate sub-issues and Sub issue may only have one parent' }]);
    }
    child.parent = parentNumber;
    parent.subIssues.push(childNumber);
    parent.updatedAt = this.clock.tick();
    return parent;
  }

  openPull(fields: { title: string; head: string; base: string; body?: string | null; author: string; draft?: boolean }): IssueRecord {
    const existing = this.pulls().find((pull) => pull.state === 'open' && pull.pull?.head === fields.head && pull.pull.base === fields.base);
    if (existing) {
      throw new ValidationError('Validation Failed', [
        { resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${this.owner}:${fields.head}.` },
      ]);
    }
    const issue = this.addIssue({ title: fields.title, body: fields.body ?? null, author: fields.author });
    const headSha = this.branches.get(fields.head) ?? sha(`${fields.head}:${issue.number}`);
    this.branches.set(fields.head, headSha);
    issue.pull = {
      head: fields.head,
      base: fields.base,
      headSha,
      merged: false,
      mergedAt: null,
      mergeCommitSha: null,
      draft: fields.draft ?? false,
      mergeable: true,
      mergeMethod: null,
    };
    return issue;
  }

  /**
   * A push to `branch`: its tip moves to `commit` (a made-up one when not given, e.g. when the test has
   * no real repository behind it), and every open pull request from it follows.
   */
  pushBranch(branch: string, commit?: string): string {
    if (commit !== undefined && !/^[0-9a-f]{40}$/.test(commit)) throw new Error(`not a commit sha: ${commit}`);
    const tip = commit ?? sha(`push:${branch}:${++this.pushes}`);
    this.branches.set(branch, tip);
    const at = this.clock.tick();
    for (const issue of this.pulls()) {
      if (issue.state !== 'open' || issue.pull?.head !== branch) continue;
      issue.pull.headSha = tip;
      issue.updatedAt = at;
    }
    return tip;
  }

  /** A commit sha, or a branch name resolved to its tip. */
  resolveRef(ref: string): string {
    const tip = this.branches.get(ref);
    if (tip) return tip;
    if (/^[0-9a-f]{40}$/.test(ref)) return ref;
    throw new ValidationError(`No commit found for SHA: ${ref}`, [{ resource: 'Commit', code: 'invalid', field: 'ref' }]);
  }

  /** A test's control: the head no longer merges cleanly into the base (or does again). */
  setMergeable(number: number, mergeable: boolean): void {
    this.pull(number).pull.mergeable = mergeable;
  }

  /** `mergeable_state` of an open pull request: conflicts, then a reviewer asking for changes, then CI. */
  mergeState(number: number): MergeState {
    const issue = this.pull(number);
    if (!issue.pull.mergeable) return 'dirty';
    if (this.reviews.changesRequested(number)) return 'blocked';
    return this.ci.unsettledOrFailing(issue.pull.headSha) ? 'unstable' : 'clean';
  }

  /** A test's control: CI's job `name` on the pull request's head ends with `conclusion` (null: still running) and `log`. */
  setPullCheck(number: number, script: CheckRunScript): JobRecord {
    const { pull } = this.pull(number);
    return this.ci.setCheckRun(pull.headSha, { headBranch: pull.head, ...script });
  }

  /** A test's control: `author` reviews the pull request's head, with inline comments each opening a thread. */
  addReview(number: number, fields: { author: string; state: ReviewState; body?: string; comments?: InlineComment[] }): ReviewRecord {
    const { pull } = this.pull(number);
    const review = this.reviews.addReview(number, { ...fields, commitId: pull.headSha });
    this.issue(number).updatedAt = this.clock.now();
    return review;
  }

  pulls(): IssueRecord[] {
    return [...this.issues.values()].filter((issue) => issue.pull !== null);
  }

  pull(number: number): IssueRecord & { pull: PullRecord } {
    const issue = this.issues.get(number);
    if (!issue?.pull) throw new NotFoundError();
    return issue as IssueRecord & { pull: PullRecord };
  }

  /** What a person merging the pull request on GitHub does. */
  mergePull(number: number, by = 'octocat', method: PullRecord['mergeMethod'] = 'merge'): IssueRecord {
    const issue = this.pull(number);
    issue.pull.mergeMethod = method;
    this.updateIssue(number, { state: 'closed' }, by);
    issue.pull.merged = true;
    issue.pull.mergedAt = issue.closedAt;
    issue.pull.mergeCommitSha = sha(`merge:${issue.number}`);
    issue.stateReason = null;
    if (issue.pull.base === this.defaultBranch) {
      for (const closed of closingReferences(issue.body ?? '')) {
        if (this.issues.get(closed)?.state === 'open') this.updateIssue(closed, { state: 'closed', stateReason: 'completed' }, by);
      }
    }
    return issue;
  }

  private attachLabel(issue: IssueRecord, name: string): void {
    const label = this.findLabel(name) ?? this.createLabel(name);
    if (!issue.labels.some((existing) => existing.toLowerCase() === label.name.toLowerCase())) issue.labels.push(label.name);
  }
}

/** Issues a merged pull request closes, from GitHub's closing keywords (`Closes #12`, `fixes #3`). */
function closingReferences(body: string): number[] {
  return [...body.matchAll(/\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?):?\s+#(\d+)\b/gi)].map((match) => Number(match[1]));
}

/** A stable, realistic-looking 40-hex-digit commit id. */
function sha(seed: string): string {
  let hash = 0x811c9dc5;
  let out = '';
  for (let round = 0; out.length < 40; round++) {
    for (const char of `${seed}#${round}`) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193) >>> 0;
    out += hash.toString(16).padStart(8, '0');
  }
  return out.slice(0, 40);
}
