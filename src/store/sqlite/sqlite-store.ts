import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type {
  Claim,
  Cooldown,
  EpochMs,
  Host,
  Job,
  OrchEvent,
  Project,
  Run,
  Task,
  TaskState,
  Worker,
} from '../../core/types.js';
import type { RunStatsRow } from '../../core/scoreboard.js';
import { StoreError } from '../store.js';
import type {
  ClaimRequest,
  EventFilter,
  NewEvent,
  NewJob,
  NewProject,
  NewRun,
  NewTask,
  AgentTaskCount,
  HostRegistration,
  NewHost,
  RunFilter,
  RunPatch,
  RunStatsFilter,
  Store,
  StoreOps,
  TaskFilter,
  TaskPatch,
  WebhookDelivery,
  NewWorker,
  WorkerFilter,
  WorkerPatch,
} from '../store.js';
import { applyMigrations } from './migrations.js';
import type { Database } from './schema.js';
import { sqliteOps } from './sqlite-ops.js';
import { inImmediateTransaction } from './transaction.js';

/**
 * Opens (creating it and its directory when missing) the SQLite database at `path` and brings its
 * schema up to date. Several processes may open the same file: writes serialize on SQLite's lock.
 */
export async function openSqliteStore(path: string): Promise<Store> {
  mkdirSync(dirname(path), { recursive: true });
  const sqlite = new BetterSqlite3(path);
  try {
    // busy_timeout first: switching to WAL needs a lock another process may hold for a moment.
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
  } catch (error) {
    sqlite.close();
    throw error;
  }
  const store = new SqliteStore(sqlite);
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

/**
 * The SQLite Store. One better-sqlite3 connection per instance; Kysely queues callers on it, so a
 * transaction holds the connection until it commits. Every mutation runs in its own
 * `BEGIN IMMEDIATE` transaction; reads are single statements and need none.
 */
export class SqliteStore implements Store {
  private readonly db: Kysely<Database>;
  /** Operations on the shared connection, outside any transaction: single-statement reads. */
  private readonly reads: StoreOps;
  /** Set while a transaction's callback runs, to catch calls on the store instead of on `tx`. */
  private readonly insideTransaction = new AsyncLocalStorage<true>();
  private readonly taskListeners = new Set<(task: Task) => void>();

  constructor(private readonly sqlite: BetterSqlite3.Database) {
    this.db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    this.reads = sqliteOps(this.db);
  }

  /** Applies pending migrations; returns the versions applied. */
  async migrate(): Promise<number[]> {
    return inImmediateTransaction(this.db, this.sqlite, (conn) => applyMigrations(conn));
  }

  transaction<T>(fn: (tx: StoreOps) => Promise<T>): Promise<T> {
    return this.write(fn);
  }

  async close(): Promise<void> {
    this.refuseInsideTransaction();
    // Lets calls already waiting for the connection finish instead of failing on a closed handle.
    await this.db.connection().execute(async () => undefined);
    await this.db.destroy();
  }

  onTaskWritten(listener: (task: Task) => void): () => void {
    this.taskListeners.add(listener);
    return () => this.taskListeners.delete(listener);
  }

  private async write<T>(fn: (ops: StoreOps) => Promise<T>): Promise<T> {
    this.refuseInsideTransaction();
    const written: Task[] = [];
    const result = await inImmediateTransaction(this.db, this.sqlite, (conn) =>
      this.insideTransaction.run(true, () => fn(this.recordingTaskWrites(sqliteOps(conn), written))),
    );
    for (const task of written) {
      for (const listener of this.taskListeners) {
        // A listener's failure is its own: the write has committed and the caller must hear so.
        try {
          listener(task);
        } catch {
          // ignored on purpose
        }
      }
    }
    return result;
  }

  /** The ops of one transaction, noting each task written so listeners hear of it after the commit. */
  private recordingTaskWrites(ops: StoreOps, written: Task[]): StoreOps {
    if (this.taskListeners.size === 0) return ops;
    return {
      ...ops,
      createTask: async (...args) => {
        const task = await ops.createTask(...args);
        written.push(task);
        return task;
      },
      updateTask: async (...args) => {
        const task = await ops.updateTask(...args);
        written.push(task);
        return task;
      },
    };
  }

  private async read<T>(fn: (ops: StoreOps) => Promise<T>): Promise<T> {
    this.refuseInsideTransaction();
    return fn(this.reads);
  }

  /**
   * The store has a single connection, held by the open transaction: a call on the store from
   * inside `transaction(fn)` would wait for that transaction forever.
   */
  private refuseInsideTransaction(): void {
    if (this.insideTransaction.getStore()) {
      throw new StoreError('store called inside its own transaction; use the tx passed to fn');
    }
  }

  // Projects

  addProject(project: NewProject, now: EpochMs): Promise<Project> {
    return this.write((ops) => ops.addProject(project, now));
  }

  getProject(name: string): Promise<Project | undefined> {
    return this.read((ops) => ops.getProject(name));
  }

  listProjects(): Promise<Project[]> {
    return this.read((ops) => ops.listProjects());
  }

  removeProject(name: string, now: EpochMs): Promise<boolean> {
    return this.write((ops) => ops.removeProject(name, now));
  }

  setProjectPaused(
    name: string,
    paused: boolean,
    reason: string | null,
    now: EpochMs,
    event?: NewEvent,
  ): Promise<Project> {
    return this.write((ops) => ops.setProjectPaused(name, paused, reason, now, event));
  }

  // Tasks

  createTask(task: NewTask, now: EpochMs, event?: NewEvent): Promise<Task> {
    return this.write((ops) => ops.createTask(task, now, event));
  }

  getTask(id: number): Promise<Task | undefined> {
    return this.read((ops) => ops.getTask(id));
  }

  listTasks(filter?: TaskFilter): Promise<Task[]> {
    return this.read((ops) => ops.listTasks(filter));
  }

  updateTask(
    id: number,
    guard: { expectedVersion?: number; fence?: number },
    patch: TaskPatch,
    now: EpochMs,
    event: NewEvent,
  ): Promise<Task> {
    return this.write((ops) => ops.updateTask(id, guard, patch, now, event));
  }

  countTasksByState(project?: string): Promise<Partial<Record<TaskState, number>>> {
    return this.read((ops) => ops.countTasksByState(project));
  }

  countTasksByAgent(project?: string): Promise<AgentTaskCount[]> {
    return this.read((ops) => ops.countTasksByAgent(project));
  }

  // Claims

  claimTask(request: ClaimRequest): Promise<Claim | null> {
    return this.write((ops) => ops.claimTask(request));
  }

  renewClaim(taskId: number, token: number, leaseUntil: EpochMs): Promise<boolean> {
    return this.write((ops) => ops.renewClaim(taskId, token, leaseUntil));
  }

  releaseClaim(taskId: number, token: number, now: EpochMs, event?: NewEvent): Promise<boolean> {
    return this.write((ops) => ops.releaseClaim(taskId, token, now, event));
  }

  getClaim(taskId: number): Promise<Claim | undefined> {
    return this.read((ops) => ops.getClaim(taskId));
  }

  listClaims(project?: string): Promise<Claim[]> {
    return this.read((ops) => ops.listClaims(project));
  }

  expiredClaims(now: EpochMs): Promise<Claim[]> {
    return this.read((ops) => ops.expiredClaims(now));
  }

  // Runs

  createRun(run: NewRun, fence: number, event?: NewEvent): Promise<Run> {
    return this.write((ops) => ops.createRun(run, fence, event));
  }

  updateRun(id: number, fence: number | null, patch: RunPatch, now: EpochMs, event?: NewEvent): Promise<Run> {
    return this.write((ops) => ops.updateRun(id, fence, patch, now, event));
  }

  getRun(id: number): Promise<Run | undefined> {
    return this.read((ops) => ops.getRun(id));
  }

  listRuns(filter?: RunFilter): Promise<Run[]> {
    return this.read((ops) => ops.listRuns(filter));
  }

  runStats(filter?: RunStatsFilter): Promise<RunStatsRow[]> {
    return this.read((ops) => ops.runStats(filter));
  }

  // Pull workers

  createWorker(worker: NewWorker, event?: NewEvent): Promise<Worker> {
    return this.write((ops) => ops.createWorker(worker, event));
  }

  updateWorker(id: number, patch: WorkerPatch, now: EpochMs, event?: NewEvent): Promise<Worker> {
    return this.write((ops) => ops.updateWorker(id, patch, now, event));
  }

  assignWorkerTask(id: number, assignment: { taskId: number; runId: number }, now: EpochMs): Promise<Worker | null> {
    return this.write((ops) => ops.assignWorkerTask(id, assignment, now));
  }

  getWorker(id: number): Promise<Worker | undefined> {
    return this.read((ops) => ops.getWorker(id));
  }

  listWorkers(filter?: WorkerFilter): Promise<Worker[]> {
    return this.read((ops) => ops.listWorkers(filter));
  }

  // Events

  appendEvent(
    event: NewEvent & { project?: string | null; taskId?: number | null; runId?: number | null },
    now: EpochMs,
  ): Promise<OrchEvent> {
    return this.write((ops) => ops.appendEvent(event, now));
  }

  listEvents(filter?: EventFilter): Promise<OrchEvent[]> {
    return this.read((ops) => ops.listEvents(filter));
  }

  // Jobs

  addJob(job: NewJob, now: EpochMs): Promise<Job> {
    return this.write((ops) => ops.addJob(job, now));
  }

  getJob(name: string): Promise<Job | undefined> {
    return this.read((ops) => ops.getJob(name));
  }

  listJobs(project?: string): Promise<Job[]> {
    return this.read((ops) => ops.listJobs(project));
  }

  removeJob(name: string, now: EpochMs): Promise<boolean> {
    return this.write((ops) => ops.removeJob(name, now));
  }

  setJobEnabled(name: string, enabled: boolean, now: EpochMs): Promise<Job> {
    return this.write((ops) => ops.setJobEnabled(name, enabled, now));
  }

  markJobRun(name: string, at: EpochMs): Promise<void> {
    return this.write((ops) => ops.markJobRun(name, at));
  }

  // Hosts

  registerHost(host: NewHost, replacing: HostRegistration | null): Promise<Host | null> {
    return this.write((ops) => ops.registerHost(host, replacing));
  }

  heartbeatHost(host: HostRegistration, at: EpochMs): Promise<boolean> {
    return this.write((ops) => ops.heartbeatHost(host, at));
  }

  markHostStopped(host: HostRegistration, at: EpochMs): Promise<boolean> {
    return this.write((ops) => ops.markHostStopped(host, at));
  }

  listHosts(): Promise<Host[]> {
    return this.read((ops) => ops.listHosts());
  }

  // Cooldowns

  setCooldown(key: string, until: EpochMs, reason: string, now: EpochMs): Promise<Cooldown> {
    return this.write((ops) => ops.setCooldown(key, until, reason, now));
  }

  activeCooldowns(now: EpochMs): Promise<Cooldown[]> {
    return this.read((ops) => ops.activeCooldowns(now));
  }

  // Webhook deliveries

  recordWebhookDelivery(
    delivery: WebhookDelivery,
    now: EpochMs,
    event?: NewEvent & { project?: string | null },
  ): Promise<boolean> {
    return this.write((ops) => ops.recordWebhookDelivery(delivery, now, event));
  }

  pruneWebhookDeliveries(before: EpochMs): Promise<number> {
    return this.write((ops) => ops.pruneWebhookDeliveries(before));
  }
}
