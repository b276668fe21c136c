import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { StoreError } from '../store.js';
import type { Database } from './schema.js';
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
} from './totals-schema.js';

/**
 * One step of the schema. Applied migrations are recorded in `schema_migrations` and never edited:
 * a change to the schema is a new migration appended at the end with the next version.
 */
export interface Migration {
  version: number;
  name: string;
  /** Receives a connection already inside the migration transaction. */
  up(db: Kysely<unknown>): Promise<void>;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    async up(db) {
      await db.schema
        .createTable('projects')
        .addColumn('name', 'text', (col) => col.primaryKey())
        .addColumn('repo_path', 'text')
        .addColumn('remote_url', 'text')
        .addColumn('default_branch', 'text', (col) => col.notNull())
        .addColumn('paused', 'integer', (col) => col.notNull().defaultTo(0))
        .addColumn('paused_reason', 'text')
        .addColumn('created_at', 'integer', (col) => col.notNull())
        .addColumn('version', 'integer', (col) => col.notNull().defaultTo(1))
        .execute();

      await db.schema
        .createTable('tasks')
        .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
        .addColumn('project', 'text', (col) =>
          col.notNull().references('projects.name').onDelete('cascade'),
        )
        .addColumn('external_ref', 'text')
        .addColumn('title', 'text', (col) => col.notNull())
        .addColumn('body', 'text', (col) => col.notNull().defaultTo(''))
        .addColumn('labels', 'text', (col) => col.notNull().defaultTo('[]'))
        .addColumn('priority', 'integer', (col) => col.notNull().defaultTo(0))
        .addColumn('role', 'text', (col) => col.notNull())
        .addColumn('parent_id', 'integer', (col) => col.references('tasks.id').onDelete('set null'))
        .addColumn('state', 'text', (col) => col.notNull())
        .addColumn('block_kind', 'text')
        .addColumn('blocked_reason', 'text')
        .addColumn('agent', 'text')
        .addColumn('model', 'text')
        .addColumn('complexity', 'text')
        .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'integer')
        .addColumn('cost_usd', 'real', (col) => col.notNull().defaultTo(0))
        .addColumn('created_at', 'integer', (col) => col.notNull())
        .addColumn('updated_at', 'integer', (col) => col.notNull())
        .addColumn('version', 'integer', (col) => col.notNull().defaultTo(1))
        .execute();
      await db.schema
        .createIndex('tasks_project_state')
        .on('tasks')
        .columns(['project', 'state'])
        .execute();
      await db.schema.createIndex('tasks_parent_id').on('tasks').column('parent_id').execute();

      await db.schema
        .createTable('task_deps')
        .addColumn('task_id', 'integer', (col) =>
          col.notNull().references('tasks.id').onDelete('cascade'),
        )
        .addColumn('depends_on', 'integer', (col) =>
          col.notNull().references('tasks.id').onDelete('cascade'),
        )
        .addPrimaryKeyConstraint('task_deps_pk', ['task_id', 'depends_on'])
        .execute();
      await db.schema
        .createIndex('task_deps_depends_on')
        .on('task_deps')
        .column('depends_on')
        .execute();

      await db.schema
        .createTable('runs')
        .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
        .addColumn('task_id', 'integer', (col) =>
          col.notNull().references('tasks.id').onDelete('cascade'),
        )
        .addColumn('project', 'text', (col) =>
          col.notNull().references('projects.name').onDelete('cascade'),
        )
        .addColumn('attempt', 'integer', (col) => col.notNull())
        .addColumn('agent', 'text', (col) => col.notNull())
        .addColumn('model', 'text')
        .addColumn('worktree', 'text')
        .addColumn('branch', 'text')
        .addColumn('pid', 'integer')
        .addColumn('host', 'text')
        .addColumn('session_id', 'text')
        .addColumn('started_at', 'integer', (col) => col.notNull())
        .addColumn('ended_at', 'integer')
        .addColumn('outcome', 'text')
        .addColumn('exit_code', 'integer')
        .addColumn('tokens_in', 'integer', (col) => col.notNull().defaultTo(0))
        .addColumn('tokens_out', 'integer', (col) => col.notNull().defaultTo(0))
        .addColumn('cost_usd', 'real', (col) => col.notNull().defaultTo(0))
        .addColumn('log_path', 'text')
        .addColumn('result', 'text')
        .execute();
      await db.schema.createIndex('runs_task_id').on('runs').column('task_id').execute();

      // The primary key on task_id is what forbids two live claims on one task.
      await db.schema
        .createTable('claims')
        .addColumn('task_id', 'integer', (col) =>
          col.primaryKey().references('tasks.id').onDelete('cascade'),
        )
        .addColumn('run_id', 'integer', (col) => col.references('runs.id').onDelete('set null'))
        .addColumn('owner', 'text', (col) => col.notNull())
        .addColumn('token', 'integer', (col) => col.notNull().unique())
        .addColumn('lease_until', 'integer', (col) => col.notNull())
        .addColumn('claimed_at', 'integer', (col) => col.notNull())
        .execute();
      await db.schema
        .createIndex('claims_lease_until')
        .on('claims')
        .column('lease_until')
        .execute();

      await db.schema
        .createTable('fence_counter')
        .addColumn('id', 'integer', (col) => col.primaryKey().check(sql`id = 1`))
        .addColumn('last_token', 'integer', (col) => col.notNull())
        .execute();
      await sql`insert into fence_counter (id, last_token) values (1, 0)`.execute(db);

      // No foreign keys: events are the audit trail and outlive the projects and tasks they name.
      await db.schema
        .createTable('events')
        .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
        .addColumn('at', 'integer', (col) => col.notNull())
        .addColumn('type', 'text', (col) => col.notNull())
        .addColumn('project', 'text')
        .addColumn('task_id', 'integer')
        .addColumn('run_id', 'integer')
        .addColumn('data', 'text', (col) => col.notNull().defaultTo('{}'))
        .execute();
      await db.schema
        .createIndex('events_task_id')
        .on('events')
        .columns(['task_id', 'id'])
        .execute();
      await db.schema
        .createIndex('events_project')
        .on('events')
        .columns(['project', 'id'])
        .execute();

      await db.schema
        .createTable('jobs')
        .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
        .addColumn('name', 'text', (col) => col.notNull().unique())
        .addColumn('project', 'text', (col) =>
          col.notNull().references('projects.name').onDelete('cascade'),
        )
        .addColumn('schedule', 'text', (col) => col.notNull())
        .addColumn('kind', 'text', (col) => col.notNull())
        .addColumn('spec', 'text', (col) => col.notNull().defaultTo('{}'))
        .addColumn('enabled', 'integer', (col) => col.notNull().defaultTo(1))
        .addColumn('last_run_at', 'integer')
        .addColumn('created_at', 'integer', (col) => col.notNull())
        .execute();
      await db.schema.createIndex('jobs_project').on('jobs').column('project').execute();
    },
  },
  {
    version: 2,
    name: 'agent cooldowns',
    async up(db) {
      await db.schema
        .createTable('cooldowns')
        .addColumn('key', 'text', (col) => col.primaryKey())
        .addColumn('until', 'integer', (col) => col.notNull())
        .addColumn('reason', 'text', (col) => col.notNull())
        .addColumn('set_at', 'integer', (col) => col.notNull())
        .execute();
    },
  },
  {
    version: 3,
    name: 'webhook deliveries',
    async up(db) {
      // Only what deduplication needs; the event log keeps what a delivery said.
      await db.schema
        .createTable('webhook_deliveries')
        .addColumn('source', 'text', (col) => col.notNull())
        .addColumn('delivery_id', 'text', (col) => col.notNull())
        .addColumn('received_at', 'integer', (col) => col.notNull())
        .addPrimaryKeyConstraint('webhook_deliveries_pk', ['source', 'delivery_id'])
        .execute();
      await db.schema
        .createIndex('webhook_deliveries_received_at')
        .on('webhook_deliveries')
        .column('received_at')
        .execute();
    },
  },
  {
    version: 4,
    name: 'pull workers',
    async up(db) {
      // A worker is not a run: it has no task until it claims one, and runs.task_id is NOT NULL. Its
      // claim opens an ordinary run (run_id), so everything after the claim is the push model's.
      await db.schema
        .createTable('workers')
        .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
        .addColumn('project', 'text', (col) =>
          col.notNull().references('projects.name').onDelete('cascade'),
        )
        .addColumn('agent', 'text', (col) => col.notNull())
        .addColumn('owner', 'text', (col) => col.notNull())
        .addColumn('host', 'text')
        .addColumn('pid', 'integer')
        .addColumn('worktree', 'text')
        .addColumn('branch', 'text')
        .addColumn('log_path', 'text')
        .addColumn('task_id', 'integer', (col) => col.references('tasks.id').onDelete('set null'))
        .addColumn('run_id', 'integer', (col) => col.references('runs.id').onDelete('set null'))
        .addColumn('started_at', 'integer', (col) => col.notNull())
        .addColumn('claimed_at', 'integer')
        .addColumn('done_at', 'integer')
        .addColumn('summary', 'text')
        .addColumn('ended_at', 'integer')
        .addColumn('outcome', 'text')
        .addColumn('reason', 'text')
        .addColumn('cost_usd', 'real', (col) => col.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createIndex('workers_project_ended_at')
        .on('workers')
        .columns(['project', 'ended_at'])
        .execute();
    },
  },
  {
    version: 5,
    name: 'scoreboard and round-robin indexes',
    async up(db) {
      // The scoreboard reads runs by start time; the round robin counts a project's tasks per agent.
      await db.schema.createIndex('runs_started_at').on('runs').column('started_at').execute();
      await db.schema.createIndex('tasks_project_agent').on('tasks').columns(['project', 'agent']).execute();
    },
  },
  {
    version: 6,
    name: 'pull requests on tasks',
    async up(db) {
      for (const [name, type] of [
        ['pr_number', 'integer'],
        ['pr_url', 'text'],
        ['pr_branch', 'text'],
        ['pr_head_sha', 'text'],
        ['pr_checks', 'text'],
      ] as const) {
        await db.schema.alterTable('tasks').addColumn(name, type).execute();
      }
      await db.schema.alterTable('tasks').addColumn('pr_ci_rounds', 'integer', (col) => col.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('tasks').addColumn('pr_review_rounds', 'integer', (col) => col.notNull().defaultTo(0)).execute();
      // Until now a pull request lived only in its task.pull_request event: copy the newest one onto the task.
      await sql`
        update tasks set
          pr_number = json_extract(e.data, '$.number'),
          pr_url = json_extract(e.data, '$.url'),
          pr_branch = json_extract(e.data, '$.branch')
        from (
          select task_id, data, row_number() over (partition by task_id order by id desc) as newest
          from events where type = 'task.pull_request'
        ) as e
        where e.task_id = tasks.id and e.newest = 1
      `.execute(db);
      // A task parked for a person only because its pull request was open is under review, no more.
      await sql`
        update tasks set state = 'in_review'
        where state = 'needs_review' and pr_number is not null
          and (select max(id) from events where events.task_id = tasks.id and type = 'task.pull_request')
            > coalesce((select max(id) from events where events.task_id = tasks.id and type = 'task.start'), 0)
      `.execute(db);
    },
  },
  {
    version: 7,
    name: 'run end reasons',
    async up(db) {
      await db.schema.alterTable('runs').addColumn('end_reason', 'text').execute();
      // Runs ended before: their agent's outcome, and a failure a later step recorded, say as much as is known.
      await sql`
        update runs set end_reason = case
          when outcome = 'succeeded' and json_extract(result, '$.failure') is null then 'completed'
          when outcome = 'succeeded' then 'step_failed'
          when outcome = 'failed' then 'agent_failed'
          when outcome = 'crashed' then 'interrupted'
          else outcome
        end
        where ended_at is not null and outcome is not null
      `.execute(db);
      await db.schema.createIndex('runs_project_ended_at').on('runs').columns(['project', 'ended_at']).execute();
    },
  },
  {
    version: 8,
    name: 'hosts',
    async up(db) {
      // The daemons sharing the store; `started_at` tells one registration of a name from the next.
      await db.schema
        .createTable('hosts')
        .addColumn('name', 'text', (col) => col.primaryKey())
        .addColumn('machine', 'text', (col) => col.notNull())
        .addColumn('pid', 'integer', (col) => col.notNull())
        .addColumn('version', 'text', (col) => col.notNull())
        .addColumn('slots', 'integer', (col) => col.notNull())
        .addColumn('started_at', 'integer', (col) => col.notNull())
        .addColumn('heartbeat_at', 'integer', (col) => col.notNull())
        .addColumn('stopped_at', 'integer')
        .execute();
    },
  },
  {
    version: 9,
    name: 'tasks by state',
    async up(db) {
      // The tick and the task list read the tasks in a few states across every project: by index, not
      // by reading all of them (a store a year old holds mostly finished tasks).
      await db.schema.createIndex('tasks_state').on('tasks').column('state').execute();
    },
  },
  {
    version: 10,
    name: 'task and run totals',
    async up(db) {
      // What /metrics and the round robin read, kept by triggers as tasks and runs are written
      // (totals-schema.ts): a scrape or a tick sums a few rows instead of grouping every task and run.
      await sql.raw(`create table task_totals (
        project text not null, state text not null, agent text not null,
        tasks integer not null, pull_requests integer not null, pr_ci_rounds integer not null, pr_review_rounds integer not null,
        primary key (project, state, agent)
      )`).execute(db);
      await sql.raw(`create table run_totals (
        project text not null, agent text not null, outcome text not null, end_reason text not null, duration_bucket integer not null,
        runs integer not null, cost_usd real not null, tokens_in integer not null, tokens_out integer not null, duration_ms integer not null,
        primary key (project, agent, outcome, end_reason, duration_bucket)
      )`).execute(db);
      await sql.raw(BACKFILL_TASK_TOTALS).execute(db);
      await sql.raw(BACKFILL_RUN_TOTALS).execute(db);
      const add = (table: string, key: readonly string[], values: readonly string[], contribution: string[]) => `
        insert into ${table} (${[...key, ...values].join(', ')}) values (${contribution.join(', ')})
        on conflict (${key.join(', ')}) do update set ${values.map((value) => `${value} = ${value} + excluded.${value}`).join(', ')};`;
      const addTask = (row: 'new' | 'old', sign: 1 | -1) => add('task_totals', TASK_TOTAL_KEY, TASK_TOTAL_VALUES, taskContribution(row, sign));
      const addRun = (row: 'new' | 'old', sign: 1 | -1) => add('run_totals', RUN_TOTAL_KEY, RUN_TOTAL_VALUES, runContribution(row, sign));
      const triggers = [
        `create trigger task_totals_insert after insert on tasks begin ${addTask('new', 1)} end`,
        `create trigger task_totals_delete after delete on tasks begin ${addTask('old', -1)} end`,
        `create trigger task_totals_update after update of ${TASK_TOTAL_COLUMNS.join(', ')} on tasks
           when ${anyChanged(TASK_TOTAL_COLUMNS, 'is not')} begin ${addTask('old', -1)} ${addTask('new', 1)} end`,
        `create trigger run_totals_insert after insert on runs begin ${addRun('new', 1)} end`,
        `create trigger run_totals_delete after delete on runs begin ${addRun('old', -1)} end`,
        `create trigger run_totals_update after update on runs begin ${addRun('old', -1)} ${addRun('new', 1)} end`,
      ];
      for (const trigger of triggers) await sql.raw(trigger).execute(db);
    },
  },
  {
    version: 11,
    name: 'tasks in board order',
    async up(db) {
      // A page of one state's tasks, of one project or all, in the board's order (core/board-order.ts),
      // read straight from an index from the cursor on: open work by priority, finished work by last update.
      for (const statement of BOARD_ORDER_INDEXES) await sql.raw(statement).execute(db);
    },
  },
  {
    version: 12,
    name: 'approvals',
    async up(db) {
      // An agent's permission requests and questions, and who decided them. Kept with its run: the
      // decisions are part of what the run did (every one is also an event).
      await db.schema
        .createTable('approvals')
        .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
        .addColumn('project', 'text', (col) => col.notNull().references('projects.name').onDelete('cascade'))
        .addColumn('task_id', 'integer', (col) => col.notNull().references('tasks.id').onDelete('cascade'))
        .addColumn('run_id', 'integer', (col) => col.notNull().references('runs.id').onDelete('cascade'))
        .addColumn('kind', 'text', (col) => col.notNull())
        .addColumn('tool', 'text')
        .addColumn('input', 'text', (col) => col.notNull().defaultTo('null'))
        .addColumn('question', 'text')
        .addColumn('state', 'text', (col) => col.notNull())
        .addColumn('decided_by', 'text')
        .addColumn('reason', 'text')
        .addColumn('created_at', 'integer', (col) => col.notNull())
        .addColumn('decided_at', 'integer')
        .execute();
      await db.schema.createIndex('approvals_state').on('approvals').columns(['state', 'id']).execute();
      await db.schema.createIndex('approvals_run_id').on('approvals').column('run_id').execute();
    },
  },
];

/** The indexes of SQLite's migration 11 and PostgreSQL's 6: the same statement on both. */
export const BOARD_ORDER_INDEXES = [
  'create index tasks_state_priority on tasks (state, priority desc, id)',
  'create index tasks_state_updated on tasks (state, updated_at, id)',
  'create index tasks_project_state_priority on tasks (project, state, priority desc, id)',
  'create index tasks_project_state_updated on tasks (project, state, updated_at, id)',
];

/**
 * Applies the migrations `db` has not seen yet, in version order, and records each one. Must run
 * inside a write transaction (on PostgreSQL, holding the migration lock), so that processes opening
 * the same database at once apply each step once. Written in SQL both databases share.
 * Returns the versions it applied.
 */
export async function applyMigrations(
  db: Kysely<Database>,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  await db.schema
    .createTable('schema_migrations')
    .ifNotExists()
    .addColumn('version', 'integer', (col) => col.primaryKey())
    .addColumn('name', 'text', (col) => col.notNull())
    .execute();

  const applied = await db.selectFrom('schema_migrations').select('version').execute();
  const appliedVersions = new Set(applied.map((row) => row.version));
  const newest = Math.max(0, ...appliedVersions);
  const known = Math.max(0, ...migrations.map((migration) => migration.version));
  if (newest > known) {
    throw new StoreError(`the database schema is version ${newest}, this Orch knows up to ${known}: upgrade Orch`);
  }

  const pending = migrations
    .filter((migration) => !appliedVersions.has(migration.version))
    .sort((a, b) => a.version - b.version);
  for (const migration of pending) {
    await migration.up(db as Kysely<unknown>);
    await db
      .insertInto('schema_migrations')
      .values({ version: migration.version, name: migration.name })
      .execute();
  }
  return pending.map((migration) => migration.version);
}
