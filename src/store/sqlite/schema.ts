import type { Generated } from 'kysely';

// Row shapes of the SQLite database as Kysely sees them. Columns are snake_case; booleans are 0/1
// integers, timestamps epoch milliseconds, JSON columns text. Mapping to domain types: rows.ts.

export interface SchemaMigrationsTable {
  version: number;
  name: string;
}

export interface ProjectsTable {
  name: string;
  repo_path: string | null;
  remote_url: string | null;
  default_branch: string;
  paused: number;
  paused_reason: string | null;
  created_at: number;
  version: number;
}

export interface TasksTable {
  id: Generated<number>;
  project: string;
  external_ref: string | null;
  title: string;
  body: string;
  /** JSON array of strings. */
  labels: string;
  priority: number;
  role: string;
  parent_id: number | null;
  state: string;
  block_kind: string | null;
  blocked_reason: string | null;
  agent: string | null;
  model: string | null;
  complexity: string | null;
  attempts: number;
  next_attempt_at: number | null;
  cost_usd: number;
  created_at: number;
  updated_at: number;
  /** The task's pull request (migration 6); all null until one is opened. */
  pr_number: number | null;
  pr_url: string | null;
  pr_branch: string | null;
  pr_head_sha: string | null;
  pr_checks: string | null;
  pr_ci_rounds: Generated<number>;
  pr_review_rounds: Generated<number>;
  version: number;
}

export interface TaskDepsTable {
  task_id: number;
  depends_on: number;
}

export interface RunsTable {
  id: Generated<number>;
  task_id: number;
  project: string;
  attempt: number;
  agent: string;
  model: string | null;
  worktree: string | null;
  branch: string | null;
  pid: number | null;
  host: string | null;
  session_id: string | null;
  started_at: number;
  ended_at: number | null;
  outcome: string | null;
  /** Why the run ended (migration 7); null while it goes on. */
  end_reason: string | null;
  exit_code: number | null;
  tokens_in: number;
  tokens_out: number;
  cost_usd: number;
  log_path: string | null;
  /** JSON, or NULL when the run has no structured result. */
  result: string | null;
}

export interface ClaimsTable {
  task_id: number;
  run_id: number | null;
  owner: string;
  token: number;
  lease_until: number;
  claimed_at: number;
}

/** One row (id = 1) holding the last fencing token handed out. */
export interface FenceCounterTable {
  id: number;
  last_token: number;
}

export interface EventsTable {
  id: Generated<number>;
  at: number;
  type: string;
  project: string | null;
  task_id: number | null;
  run_id: number | null;
  /** JSON object. */
  data: string;
}

export interface JobsTable {
  id: Generated<number>;
  name: string;
  project: string;
  schedule: string;
  kind: string;
  /** JSON object. */
  spec: string;
  enabled: number;
  last_run_at: number | null;
  created_at: number;
}

export interface CooldownsTable {
  key: string;
  until: number;
  reason: string;
  set_at: number;
}

export interface WebhookDeliveriesTable {
  source: string;
  delivery_id: string;
  received_at: number;
}

export interface WorkersTable {
  id: Generated<number>;
  project: string;
  agent: string;
  owner: string;
  host: string | null;
  pid: number | null;
  worktree: string | null;
  branch: string | null;
  log_path: string | null;
  task_id: number | null;
  run_id: number | null;
  started_at: number;
  claimed_at: number | null;
  done_at: number | null;
  summary: string | null;
  ended_at: number | null;
  outcome: string | null;
  reason: string | null;
  cost_usd: number;
}

export interface HostsTable {
  name: string;
  machine: string;
  pid: number;
  version: string;
  slots: number;
  started_at: number;
  heartbeat_at: number;
  stopped_at: number | null;
}

/** Tasks per project, state and agent ('' for none), kept by triggers (migration 10, totals-schema.ts). */
export interface TaskTotalsTable {
  project: string;
  state: string;
  agent: string;
  tasks: number;
  /** Of those, the tasks with a pull request, and the fix rounds run on them. */
  pull_requests: number;
  pr_ci_rounds: number;
  pr_review_rounds: number;
}

/** Runs per project, agent, outcome, end reason ('' for none) and duration bucket (-1: not ended), kept by triggers. */
export interface RunTotalsTable {
  project: string;
  agent: string;
  outcome: string;
  end_reason: string;
  duration_bucket: number;
  runs: number;
  cost_usd: number;
  tokens_in: number;
  tokens_out: number;
  duration_ms: number;
}

export interface ApprovalsTable {
  id: Generated<number>;
  project: string;
  task_id: number;
  run_id: number;
  kind: string;
  tool: string | null;
  /** JSON text. */
  input: string;
  question: string | null;
  state: string;
  decided_by: string | null;
  reason: string | null;
  created_at: number;
  decided_at: number | null;
}

export interface Database {
  schema_migrations: SchemaMigrationsTable;
  projects: ProjectsTable;
  tasks: TasksTable;
  task_deps: TaskDepsTable;
  runs: RunsTable;
  claims: ClaimsTable;
  fence_counter: FenceCounterTable;
  events: EventsTable;
  jobs: JobsTable;
  cooldowns: CooldownsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  workers: WorkersTable;
  hosts: HostsTable;
  task_totals: TaskTotalsTable;
  run_totals: RunTotalsTable;
  approvals: ApprovalsTable;
}
