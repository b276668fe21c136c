// The totals /metrics and the round robin read, kept by the database itself as tasks and runs are
// written (SQLite migration 10, PostgreSQL migration 5). Triggers on `tasks` and `runs` take a row's
// old contribution out and put its new one in, in the transaction that writes the row, whatever the
// process or host: every path that writes a task or a run is counted, cascading deletes included.
// A read sums a handful of rows instead of grouping every task and run ever stored.
//
// On SQLite (one writer at a time) a trigger adds to its total's row in place. On PostgreSQL each
// change is a row of its own (deltas), so that concurrent transactions never wait for one another on
// a shared total's row lock; readers sum the deltas, and fold them back into one row per total once
// they pile up (`COMPACT_*`).
//
// The text below is part of those migrations: applied migrations are never edited, so a change here
// (new RUN_DURATION_BOUNDS_S, a new total) is a new migration that drops and rebuilds the triggers and totals.

import { RUN_DURATION_BOUNDS_S } from '../store.js';

/** The columns identifying one total; null outcomes, end reasons and agents are stored as ''. */
export const TASK_TOTAL_KEY = ['project', 'state', 'agent'] as const;
export const TASK_TOTAL_VALUES = ['tasks', 'pull_requests', 'pr_ci_rounds', 'pr_review_rounds'] as const;
export const RUN_TOTAL_KEY = ['project', 'agent', 'outcome', 'end_reason', 'duration_bucket'] as const;
export const RUN_TOTAL_VALUES = ['runs', 'cost_usd', 'tokens_in', 'tokens_out', 'duration_ms'] as const;

/** Whether a run counts in the duration histogram: it has ended with an outcome. */
const timed = (row: string) => `${row}.ended_at is not null and ${row}.outcome is not null`;

/** The histogram bucket of a run: the index of the first bound its duration is at most, bounds.length above them all, -1 when not timed. */
function durationBucket(row: string): string {
  const bounds = RUN_DURATION_BOUNDS_S.map((bound, i) => `when ${row}.ended_at - ${row}.started_at <= ${bound * 1000} then ${i}`).join(' ');
  return `case when not (${timed(row)}) then -1 ${bounds} else ${RUN_DURATION_BOUNDS_S.length} end`;
}

/** A task's contribution to its total, signed (+1 for its new row, -1 to take its old one out). */
export function taskContribution(row: string, sign: 1 | -1): string[] {
  const withPr = (value: string) => `case when ${row}.pr_number is null then 0 else ${sign} * ${value} end`;
  return [`${row}.project`, `${row}.state`, `coalesce(${row}.agent, '')`, `${sign}`, withPr('1'), withPr(`${row}.pr_ci_rounds`), withPr(`${row}.pr_review_rounds`)];
}

/** A run's contribution to its total, signed. */
export function runContribution(row: string, sign: 1 | -1): string[] {
  return [
    `${row}.project`,
    `${row}.agent`,
    `coalesce(${row}.outcome, '')`,
    `coalesce(${row}.end_reason, '')`,
    durationBucket(row),
    `${sign}`,
    `${sign} * ${row}.cost_usd`,
    `${sign} * ${row}.tokens_in`,
    `${sign} * ${row}.tokens_out`,
    `case when ${timed(row)} then ${sign} * (${row}.ended_at - ${row}.started_at) else 0 end`,
  ];
}

/** The columns of a task whose change moves it to another total. */
export const TASK_TOTAL_COLUMNS = ['project', 'state', 'agent', 'pr_number', 'pr_ci_rounds', 'pr_review_rounds'] as const;

/** `old.x is distinct from new.x or …` in SQLite's spelling (`is not`) or PostgreSQL's. */
export function anyChanged(columns: readonly string[], distinct: 'is not' | 'is distinct from'): string {
  return columns.map((column) => `old.${column} ${distinct} new.${column}`).join(' or ');
}

/** Fills the totals from the tasks and runs already stored, as the migration that adds them runs. */
export const BACKFILL_TASK_TOTALS = `
  insert into task_totals (${[...TASK_TOTAL_KEY, ...TASK_TOTAL_VALUES].join(', ')})
  select project, state, agent, count(*), sum(pull_requests), sum(pr_ci_rounds), sum(pr_review_rounds)
  from (select ${taskContribution('task', 1).map((expression, i) => `${expression} as ${[...TASK_TOTAL_KEY, ...TASK_TOTAL_VALUES][i]}`).join(', ')} from tasks task) contributions
  group by project, state, agent`;

export const BACKFILL_RUN_TOTALS = `
  insert into run_totals (${[...RUN_TOTAL_KEY, ...RUN_TOTAL_VALUES].join(', ')})
  select project, agent, outcome, end_reason, duration_bucket, count(*), sum(cost_usd), sum(tokens_in), sum(tokens_out), sum(duration_ms)
  from (select ${runContribution('run', 1).map((expression, i) => `${expression} as ${[...RUN_TOTAL_KEY, ...RUN_TOTAL_VALUES][i]}`).join(', ')} from runs run) contributions
  group by project, agent, outcome, end_reason, duration_bucket`;

/** PostgreSQL: folds a totals table's delta rows into one row per total, in one statement; totals back to zero go. */
function compactStatement(table: string, key: readonly string[], values: readonly string[], count: string): string {
  return `
    with gone as (delete from ${table} returning *)
    insert into ${table} (${[...key, ...values].join(', ')})
    select ${[...key, ...values.map((value) => `sum(${value})`)].join(', ')} from gone
    group by ${key.join(', ')}
    having sum(${count}) <> 0`;
}

export const COMPACT_TASK_TOTALS = compactStatement('task_totals', TASK_TOTAL_KEY, TASK_TOTAL_VALUES, 'tasks');
export const COMPACT_RUN_TOTALS = compactStatement('run_totals', RUN_TOTAL_KEY, RUN_TOTAL_VALUES, 'runs');
