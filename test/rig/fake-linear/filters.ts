// Linear's filter inputs evaluated over the fake's records: the comparators (ID, string, number,
// date) and the entity filters the reduced schema declares, with `and` / `or` nesting. The schema
// already refuses any field not listed here; a field it allows but this file does not know is a bug in
// the fake and throws, so it can never be silently ignored.

import { InvalidInputError, type CommentRecord, type IssueRecord, type LabelRecord, type LinearWorkspace, type TeamRecord, type WorkflowStateRecord } from './state.js';

type Filter = Record<string, unknown>;

/** Every filter field the fake evaluates, per input type; the schema must not allow more. */
export const IMPLEMENTED_FILTER_FIELDS: Record<string, readonly string[]> = {
  IDComparator: ['eq', 'in', 'neq', 'nin'],
  StringComparator: ['contains', 'containsIgnoreCase', 'endsWith', 'eq', 'eqIgnoreCase', 'in', 'neq', 'neqIgnoreCase', 'nin', 'notContains', 'startsWith', 'startsWithIgnoreCase'],
  NumberComparator: ['eq', 'gt', 'gte', 'in', 'lt', 'lte', 'neq', 'nin'],
  NullableNumberComparator: ['eq', 'gt', 'gte', 'in', 'lt', 'lte', 'neq', 'nin', 'null'],
  DateComparator: ['eq', 'gt', 'gte', 'in', 'lt', 'lte', 'neq', 'nin'],
  IssueFilter: ['and', 'createdAt', 'id', 'labels', 'number', 'or', 'parent', 'priority', 'state', 'team', 'title', 'updatedAt'],
  NullableIssueFilter: ['and', 'createdAt', 'id', 'labels', 'null', 'number', 'or', 'priority', 'state', 'team', 'title', 'updatedAt'],
  TeamFilter: ['and', 'id', 'key', 'name', 'or'],
  NullableTeamFilter: ['and', 'id', 'key', 'name', 'null', 'or'],
  WorkflowStateFilter: ['and', 'id', 'name', 'or', 'position', 'team', 'type'],
  IssueLabelFilter: ['and', 'id', 'name', 'or', 'team'],
  IssueLabelCollectionFilter: ['and', 'every', 'id', 'length', 'name', 'or', 'some'],
  CommentFilter: ['and', 'body', 'id', 'or'],
};

export class IssueFilters {
  constructor(private readonly workspace: LinearWorkspace) {}

  issue(issue: IssueRecord, filter: Filter | null | undefined): boolean {
    return this.entity('IssueFilter', filter, (field, value) => this.issueField(issue, field, value));
  }

  nullableIssue(issue: IssueRecord | null, filter: Filter | null | undefined): boolean {
    if (!filter) return true;
    if ('null' in filter && filter.null !== null && filter.null !== undefined) {
      if ((issue === null) !== filter.null) return false;
    }
    if (issue === null) return Object.keys(filter).every((key) => key === 'null');
    return this.entity('NullableIssueFilter', filter, (field, value) => (field === 'null' ? true : this.issueField(issue, field, value)));
  }

  team(team: TeamRecord, filter: Filter | null | undefined): boolean {
    return this.entity('TeamFilter', filter, (field, value) => {
      if (field === 'id') return idMatches(team.id, value as Filter);
      if (field === 'key') return stringMatches(team.key, value as Filter);
      return stringMatches(team.name, value as Filter); // name
    });
  }

  nullableTeam(team: TeamRecord | null, filter: Filter | null | undefined): boolean {
    if (!filter) return true;
    if (filter.null !== null && filter.null !== undefined && (team === null) !== filter.null) return false;
    if (team === null) return Object.keys(filter).every((key) => key === 'null');
    return this.entity('NullableTeamFilter', filter, (field, value) => (field === 'null' ? true : this.team(team, { [field]: value })));
  }

  state(state: WorkflowStateRecord, filter: Filter | null | undefined): boolean {
    return this.entity('WorkflowStateFilter', filter, (field, value) => {
      switch (field) {
        case 'id':
          return idMatches(state.id, value as Filter);
        case 'name':
          return stringMatches(state.name, value as Filter);
        case 'type':
          return stringMatches(state.type, value as Filter);
        case 'position':
          return numberMatches(state.position, value as Filter);
        default: // team
          return this.team(this.teamOf(state.teamId), value as Filter);
      }
    });
  }

  label(label: LabelRecord, filter: Filter | null | undefined): boolean {
    return this.entity('IssueLabelFilter', filter, (field, value) => {
      if (field === 'id') return idMatches(label.id, value as Filter);
      if (field === 'name') return stringMatches(label.name, value as Filter);
      return this.nullableTeam(label.teamId === null ? null : this.teamOf(label.teamId), value as Filter); // team
    });
  }

  comment(comment: CommentRecord, filter: Filter | null | undefined): boolean {
    return this.entity('CommentFilter', filter, (field, value) => (field === 'id' ? idMatches(comment.id, value as Filter) : stringMatches(comment.body, value as Filter)));
  }

  /** A collection filter over an issue's labels: `some`, `every`, `length`, or a label field any label must match. */
  private labels(labels: LabelRecord[], filter: Filter): boolean {
    return this.entity('IssueLabelCollectionFilter', filter, (field, value) => {
      switch (field) {
        case 'some':
          return labels.some((label) => this.label(label, value as Filter));
        case 'every':
          return labels.every((label) => this.label(label, value as Filter));
        case 'length':
          return numberMatches(labels.length, value as Filter);
        default: // id, name: some label matches
          return labels.some((label) => this.label(label, { [field]: value }));
      }
    });
  }

  private issueField(issue: IssueRecord, field: string, value: unknown): boolean {
    const filter = value as Filter;
    switch (field) {
      case 'id':
        return idMatches(issue.id, filter);
      case 'number':
        return numberMatches(issue.number, filter);
      case 'title':
        return stringMatches(issue.title, filter);
      case 'priority':
        return numberMatches(issue.priority, filter);
      case 'createdAt':
        return dateMatches(issue.createdAt, filter, this.workspace.clock.now());
      case 'updatedAt':
        return dateMatches(issue.updatedAt, filter, this.workspace.clock.now());
      case 'team':
        return this.team(this.teamOf(issue.teamId), filter);
      case 'state': {
        const state = this.workspace.states.get(issue.stateId);
        if (!state) throw new Error(`fake Linear: issue ${issue.id} has no state`);
        return this.state(state, filter);
      }
      case 'labels':
        return this.labels(issue.labelIds.map((id) => this.workspace.labels.get(id)).filter((label): label is LabelRecord => label !== undefined), filter);
      default: // parent
        return this.nullableIssue(issue.parentId === null ? null : (this.workspace.issues.get(issue.parentId) ?? null), filter);
    }
  }

  private teamOf(teamId: string): TeamRecord {
    const team = this.workspace.teams.get(teamId);
    if (!team) throw new Error(`fake Linear: no team ${teamId}`);
    return team;
  }

  /** Every field given must match (`and` and `or` nest); a null field is no constraint, as in Linear. */
  private entity(type: string, filter: Filter | null | undefined, field: (name: string, value: unknown) => boolean): boolean {
    if (!filter) return true;
    const known = IMPLEMENTED_FILTER_FIELDS[type] ?? [];
    return Object.entries(filter).every(([name, value]) => {
      if (value === null || value === undefined) return true;
      if (!known.includes(name)) throw new Error(`fake Linear: ${type}.${name} is not implemented`);
      if (name === 'and') return (value as Filter[]).every((inner) => this.entity(type, inner, field));
      if (name === 'or') return (value as Filter[]).some((inner) => this.entity(type, inner, field));
      return field(name, value);
    });
  }
}

// ---------------------------------------------------------------- comparators

function comparator<T>(type: string, filter: Filter, value: T, checks: Record<string, (operand: unknown) => boolean>): boolean {
  return Object.entries(filter).every(([name, operand]) => {
    if (operand === null || operand === undefined) return true;
    const check = checks[name];
    if (!check) throw new Error(`fake Linear: ${type}.${name} is not implemented for ${String(value)}`);
    return check(operand);
  });
}

export function idMatches(value: string, filter: Filter): boolean {
  return comparator('IDComparator', filter, value, {
    eq: (operand) => value === operand,
    neq: (operand) => value !== operand,
    in: (operand) => (operand as string[]).includes(value),
    nin: (operand) => !(operand as string[]).includes(value),
  });
}

export function stringMatches(value: string, filter: Filter): boolean {
  const lower = value.toLowerCase();
  return comparator('StringComparator', filter, value, {
    eq: (operand) => value === operand,
    neq: (operand) => value !== operand,
    in: (operand) => (operand as string[]).includes(value),
    nin: (operand) => !(operand as string[]).includes(value),
    eqIgnoreCase: (operand) => lower === String(operand).toLowerCase(),
    neqIgnoreCase: (operand) => lower !== String(operand).toLowerCase(),
    contains: (operand) => value.includes(String(operand)),
    containsIgnoreCase: (operand) => lower.includes(String(operand).toLowerCase()),
    notContains: (operand) => !value.includes(String(operand)),
    startsWith: (operand) => value.startsWith(String(operand)),
    startsWithIgnoreCase: (operand) => lower.startsWith(String(operand).toLowerCase()),
    endsWith: (operand) => value.endsWith(String(operand)),
  });
}

export function numberMatches(value: number | null, filter: Filter): boolean {
  return comparator('NumberComparator', filter, value, {
    null: (operand) => (value === null) === operand,
    eq: (operand) => value === operand,
    neq: (operand) => value !== operand,
    in: (operand) => value !== null && (operand as number[]).includes(value),
    nin: (operand) => value === null || !(operand as number[]).includes(value),
    lt: (operand) => value !== null && value < Number(operand),
    lte: (operand) => value !== null && value <= Number(operand),
    gt: (operand) => value !== null && value > Number(operand),
    gte: (operand) => value !== null && value >= Number(operand),
  });
}

export function dateMatches(value: number, filter: Filter, now: number): boolean {
  const at = (operand: unknown) => dateTimeOrDuration(operand, now);
  return comparator('DateComparator', filter, value, {
    eq: (operand) => value === at(operand),
    neq: (operand) => value !== at(operand),
    in: (operand) => (operand as unknown[]).some((item) => value === at(item)),
    nin: (operand) => (operand as unknown[]).every((item) => value !== at(item)),
    lt: (operand) => value < at(operand),
    lte: (operand) => value <= at(operand),
    gt: (operand) => value > at(operand),
    gte: (operand) => value >= at(operand),
  });
}

const DURATION = /^(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;
const DAY_MS = 86_400_000;

/** Linear's DateTimeOrDuration: an ISO 8601 date-time, or a duration from now (`-P2W`: two weeks ago). */
export function dateTimeOrDuration(value: unknown, now: number): number {
  if (typeof value !== 'string') throw new InvalidInputError('Argument Validation Error', 'A date must be a string.');
  const duration = DURATION.exec(value);
  if (duration && value !== 'P' && value !== '-P') {
    const [, minus, years, months, weeks, days, hours, minutes, seconds] = duration;
    const ms =
      Number(years ?? 0) * 365 * DAY_MS +
      Number(months ?? 0) * 30 * DAY_MS +
      Number(weeks ?? 0) * 7 * DAY_MS +
      Number(days ?? 0) * DAY_MS +
      Number(hours ?? 0) * 3_600_000 +
      Number(minutes ?? 0) * 60_000 +
      Number(seconds ?? 0) * 1000;
    return minus ? now - ms : now + ms;
  }
  const parsed = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(parsed)) throw new InvalidInputError('Argument Validation Error', `"${value}" is not a date or a duration.`);
  return parsed;
}
