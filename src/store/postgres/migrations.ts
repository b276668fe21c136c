import { sql } from 'kysely';
import { BOARD_ORDER_INDEXES, type Migration } from '../sqlite/migrations.js';
import {
  anyChanged,
  BACKFILL_RUN_TOTALS,
  BACKFILL_TASK_TOTALS,
  RUN_TOTAL_KEY,
  RUN_TOTAL_VALUES,
  runContribution,
  TASK_TOTAL_COLUMNS,
  TASK_TOTAL_KEY,
  TASK_TOTAL_VALUES,
  taskContribution,
} from '../sqlite/totals-schema.js';

/**
 * The PostgreSQL schema, in steps recorded in `schema_migrations` like SQLite's and never edited: a
 * change is a new migration appended with the next version. Tables, columns and meanings are
 * SQLite's (see ../sqlite/schema.ts): booleans 0/1 integers, JSON as text, timestamps epoch
 * milliseconds. Timestamps, ids and tokens are bigint, which the pool reads back as JS numbers.
 *
 * Version 1 is the schema SQLite reaches through its migrations 1 to 7; version 2 is its 8; version 3
 * is PostgreSQL's own (claims and events that do not wait for one another's commits); version 4 is
 * SQLite's 9; version 5 is SQLite's 10, its totals kept as rows of changes (see ../sqlite/totals-schema.ts);
 * version 6 is SQLite's 11; version 7 is SQLite's 12.
 */
export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    async up(db) {
      for (const statement of INITIAL_SCHEMA) await sql.raw(statement).execute(db);
    },
  },
  {
    version: 2,
    name: 'hosts',
    async up(db) {
      // The daemons sharing the store; `started_at` tells one registration of a name from the next.
      await sql.raw(`create table hosts (
        name text primary key,
        machine text not null,
        pid integer not null,
        version text not null,
        slots integer not null,
        started_at bigint not null,
        heartbeat_at bigint not null,
        stopped_at bigint
      )`).execute(db);
    },
  },
  {
    version: 3,
    name: 'concurrent claims and events',
    async up(db) {
      // Fencing tokens from a sequence: `nextval` takes no row lock, so concurrent claims do not wait
      // for one another's commit as they did on the counter row. Tokens stay unique and increasing;
      // a gap (a refused or rolled-back claim) is harmless to fencing. It starts above every token given.
      await sql.raw('create sequence fence_tokens as bigint').execute(db);
      await sql.raw("select setval('fence_tokens', (select last_token + 1 from fence_counter), false)").execute(db);
      // The transaction that wrote each event: readers resuming after an event order by (tx, id) and
      // read only below the oldest transaction still running, instead of every writer of an event
      // holding one lock to its commit (see ../sqlite/event-ops.ts).
      await sql.raw('alter table events add column tx xid8 not null default pg_current_xact_id()').execute(db);
      await sql.raw('create index events_tx on events (tx, id)').execute(db);
      // A project's tasks in one state, oldest first, read straight from the index (SQLite's index on
      // (project, state) ends in the rowid, which is the id, so it reads them so already).
      await sql.raw('create index tasks_project_state_id on tasks (project, state, id)').execute(db);
      await sql.raw('drop index tasks_project_state').execute(db);
    },
  },
  {
    version: 4,
    name: 'tasks by state',
    async up(db) {
      // SQLite's migration 9: the tasks in a few states across every project, by index.
      await sql.raw('create index tasks_state on tasks (state, id)').execute(db);
    },
  },
  {
    version: 5,
    name: 'task and run totals',
    async up(db) {
      // SQLite's migration 10, with one change: a trigger inserts its change as a row of its own
      // instead of adding to the total's row, so that transactions writing tasks of one project and
      // state never wait on one another for that row's lock. Readers sum the rows and compact them.
      await sql.raw(`create table task_totals (
        project text not null, state text not null, agent text not null,
        tasks bigint not null, pull_requests bigint not null, pr_ci_rounds bigint not null, pr_review_rounds bigint not null
      )`).execute(db);
      await sql.raw(`create table run_totals (
        project text not null, agent text not null, outcome text not null, end_reason text not null, duration_bucket integer not null,
        runs bigint not null, cost_usd double precision not null, tokens_in bigint not null, tokens_out bigint not null, duration_ms bigint not null
      )`).execute(db);
      await sql.raw(BACKFILL_TASK_TOTALS).execute(db);
      await sql.raw(BACKFILL_RUN_TOTALS).execute(db);
      const insert = (table: string, key: readonly string[], values: readonly string[], contribution: string[]) =>
        `insert into ${table} (${[...key, ...values].join(', ')}) values (${contribution.join(', ')});`;
      const track = (table: string, key: readonly string[], values: readonly string[], contribution: (row: string, sign: 1 | -1) => string[]) => `
        create function ${table}_track() returns trigger language plpgsql as $$
        begin
          if tg_op in ('UPDATE', 'DELETE') then ${insert(table, key, values, contribution('old', -1))} end if;
          if tg_op in ('INSERT', 'UPDATE') then ${insert(table, key, values, contribution('new', 1))} end if;
          return null;
        end $$`;
      await sql.raw(track('task_totals', TASK_TOTAL_KEY, TASK_TOTAL_VALUES, taskContribution)).execute(db);
      await sql.raw(track('run_totals', RUN_TOTAL_KEY, RUN_TOTAL_VALUES, runContribution)).execute(db);
      await sql.raw('create trigger task_totals_insert_delete after insert or delete on tasks for each row execute function task_totals_track()').execute(db);
      await sql.raw(`create trigger task_totals_update after update of ${TASK_TOTAL_COLUMNS.join(', ')} on tasks for each row
        when (${anyChanged(TASK_TOTAL_COLUMNS, 'is distinct from')}) execute function task_totals_track()`).execute(db);
      await sql.raw('create trigger run_totals_track after insert or update or delete on runs for each row execute function run_totals_track()').execute(db);
    },
  },
  {
    version: 6,
    name: 'tasks in board order',
    async up(db) {
      // SQLite's migration 11: a page of one state's tasks in the board's order, by index.
      for (const statement of BOARD_ORDER_INDEXES) await sql.raw(statement).execute(db);
    },
  },
  {
    version: 7,
    name: 'approvals',
    async up(db) {
      // SQLite's migration 12: an agent's permission requests and questions, and who decided them.
      await sql.raw(`create table approvals (
        id bigint generated by default as identity primary key,
        project text not null references projects (name) on delete cascade,
        task_id bigint not null references tasks (id) on delete cascade,
        run_id bigint not null references runs (id) on delete cascade,
        kind text not null,
        tool text,
        input text not null default 'null',
        question text,
        state text not null,
        decided_by text,
        reason text,
        created_at bigint not null,
        decided_at bigint
      )`).execute(db);
      await sql.raw('create index approvals_state on approvals (state, id)').execute(db);
      await sql.raw('create index approvals_run_id on approvals (run_id)').execute(db);
    },
  },
];

const INITIAL_SCHEMA = [
  `create table projects (
    name text primary key,
    repo_path text,
    remote_url text,
    default_branch text not null,
    paused integer not null default 0,
    paused_reason text,
    created_at bigint not null,
    version integer not null default 1
  )`,
  `create table tasks (
    id bigint generated by default as identity primary key,
    project text not null references projects (name) on delete cascade,
    external_ref text,
    title text not null,
    body text not null default '',
    labels text not null default '[]',
    priority double precision not null default 0,
    role text not null,
    parent_id bigint references tasks (id) on delete set null,
    state text not null,
    block_kind text,
    blocked_reason text,
    agent text,
    model text,
    complexity text,
    attempts integer not null default 0,
    next_attempt_at bigint,
    cost_usd double precision not null default 0,
    created_at bigint not null,
    updated_at bigint not null,
    version integer not null default 1,
    pr_number integer,
    pr_url text,
    pr_branch text,
    pr_head_sha text,
    pr_checks text,
    pr_ci_rounds integer not null default 0,
    pr_review_rounds integer not null default 0
  )`,
  'create index tasks_project_state on tasks (project, state)',
  'create index tasks_parent_id on tasks (parent_id)',
  'create index tasks_project_agent on tasks (project, agent)',
  `create table task_deps (
    task_id bigint not null references tasks (id) on delete cascade,
    depends_on bigint not null references tasks (id) on delete cascade,
    constraint task_deps_pk primary key (task_id, depends_on)
  )`,
  'create index task_deps_depends_on on task_deps (depends_on)',
  `create table runs (
    id bigint generated by default as identity primary key,
    task_id bigint not null references tasks (id) on delete cascade,
    project text not null references projects (name) on delete cascade,
    attempt integer not null,
    agent text not null,
    model text,
    worktree text,
    branch text,
    pid integer,
    host text,
    session_id text,
    started_at bigint not null,
    ended_at bigint,
    outcome text,
    end_reason text,
    exit_code integer,
    tokens_in bigint not null default 0,
    tokens_out bigint not null default 0,
    cost_usd double precision not null default 0,
    log_path text,
    result text
  )`,
  'create index runs_task_id on runs (task_id)',
  'create index runs_started_at on runs (started_at)',
  'create index runs_project_ended_at on runs (project, ended_at)',
  // The primary key on task_id is what forbids two live claims on one task.
  `create table claims (
    task_id bigint primary key references tasks (id) on delete cascade,
    run_id bigint references runs (id) on delete set null,
    owner text not null,
    token bigint not null unique,
    lease_until bigint not null,
    claimed_at bigint not null
  )`,
  'create index claims_lease_until on claims (lease_until)',
  `create table fence_counter (
    id integer primary key check (id = 1),
    last_token bigint not null
  )`,
  'insert into fence_counter (id, last_token) values (1, 0)',
  // No foreign keys: events are the audit trail and outlive the projects and tasks they name.
  `create table events (
    id bigint generated by default as identity primary key,
    at bigint not null,
    type text not null,
    project text,
    task_id bigint,
    run_id bigint,
    data text not null default '{}'
  )`,
  'create index events_task_id on events (task_id, id)',
  'create index events_project on events (project, id)',
  `create table jobs (
    id bigint generated by default as identity primary key,
    name text not null unique,
    project text not null references projects (name) on delete cascade,
    schedule text not null,
    kind text not null,
    spec text not null default '{}',
    enabled integer not null default 1,
    last_run_at bigint,
    created_at bigint not null
  )`,
  'create index jobs_project on jobs (project)',
  `create table cooldowns (
    key text primary key,
    until bigint not null,
    reason text not null,
    set_at bigint not null
  )`,
  `create table webhook_deliveries (
    source text not null,
    delivery_id text not null,
    received_at bigint not null,
    constraint webhook_deliveries_pk primary key (source, delivery_id)
  )`,
  'create index webhook_deliveries_received_at on webhook_deliveries (received_at)',
  `create table workers (
    id bigint generated by default as identity primary key,
    project text not null references projects (name) on delete cascade,
    agent text not null,
    owner text not null,
    host text,
    pid integer,
    worktree text,
    branch text,
    log_path text,
    task_id bigint references tasks (id) on delete set null,
    run_id bigint references runs (id) on delete set null,
    started_at bigint not null,
    claimed_at bigint,
    done_at bigint,
    summary text,
    ended_at bigint,
    outcome text,
    reason text,
    cost_usd double precision not null default 0
  )`,
  'create index workers_project_ended_at on workers (project, ended_at)',
];
