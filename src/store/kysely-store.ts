import { AsyncLocalStorage } from 'node:async_hooks';
import type { Kysely } from 'kysely';
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
} from '../core/types.js';
import type { RunStatsRow } from '../core/scoreboard.js';
import { StoreError } from './store.js';
import type { Approval, ApprovalDecision } from '../core/approvals.js';
import type {
  AgentTaskCount,
  ProjectStateCount,
  TaskPage,
  TaskPageRequest,
  ApprovalFilter,
  NewApproval,
  ClaimRequest,
  EventFilter,
  MetricTotals,
  FirstFreeClaimRequest,
  HostRegistration,
  NewHost,
  NewEvent,
  NewJob,
  NewProject,
  NewRun,
  NewTask,
  NewWorker,
  RunFilter,
  RunPatch,
  RunStatsFilter,
  Store,
  StoreOps,
  TaskFilter,
  TaskPatch,
  TaskSummary,
  TaskWaits,
  TimedEvent,
  WebhookDelivery,
  WorkerFilter,
  WorkerPatch,
} from './store.js';
import type { Database } from './sqlite/schema.js';
import { captureEvents, type EventCapture } from './sqlite/event-ops.js';
import { sqliteOps } from './sqlite/sqlite-ops.js';

/**
 * A Store made of the shared Kysely operations: every mutation in one transaction, reads as single
 * statements, task listeners told after commit. A subclass says how a transaction runs on its
 * database and how a read is made.
 */
export abstract class KyselyStore implements Store {
  /** Set while a transaction's callback runs, to catch calls on the store instead of on `tx`. */
  private readonly insideTransaction = new AsyncLocalStorage<true>();
  private readonly taskListeners = new Set<(task: Task) => void>();
  private readonly commitListeners = new Set<(stored: readonly OrchEvent[] | null) => void>();

  /**
   * Runs `fn` in one write transaction and commits it. An implementation may run `fn` again after a
   * failure that left nothing committed (a lost connection): `fn` must start from scratch each time.
   */
  protected abstract inTransaction<T>(fn: (conn: Kysely<Database>) => Promise<T>): Promise<T>;
  /** Runs a read; `ops` run outside any transaction. */
  protected abstract inRead<T>(fn: (ops: StoreOps) => Promise<T>): Promise<T>;
  abstract close(): Promise<void>;
  abstract othersWrites(): number | null;

  transaction<T>(fn: (tx: StoreOps) => Promise<T>): Promise<T> {
    return this.write(fn);
  }

  onTaskWritten(listener: (task: Task) => void): () => void {
    this.taskListeners.add(listener);
    return () => this.taskListeners.delete(listener);
  }

  onCommitted(listener: (stored: readonly OrchEvent[] | null) => void): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  private tellCommitted(stored: readonly OrchEvent[] | null): void {
    if (stored?.length === 0) return; // a write that stored no event
    for (const listener of this.commitListeners) {
      try {
        listener(stored);
      } catch {
        // A listener's failure is its own: the write has committed.
      }
    }
  }

  private async write<T>(fn: (ops: StoreOps) => Promise<T>): Promise<T> {
    this.refuseInsideTransaction();
    let written: Task[] = [];
    let capture: EventCapture | null = null;
    const result = await this.inTransaction((conn) => {
      written = [];
      capture = captureEvents(conn);
      return this.insideTransaction.run(true, () => fn(this.recordingTaskWrites(sqliteOps(conn), written)));
    });
    const captured = capture as EventCapture | null;
    this.tellCommitted(captured?.complete ? captured.events : null);
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
    // Derived, not spread, and each read when called: the operations are made on first use (sqlite-ops.ts).
    const noted = (name: 'createTask' | 'updateTask') => ({
      value: async (...args: unknown[]) => {
        const task = await (ops[name] as (...args: unknown[]) => Promise<Task>)(...args);
        written.push(task);
        return task;
      },
    });
    return Object.create(ops, { createTask: noted('createTask'), updateTask: noted('updateTask') }) as StoreOps;
  }

  /**
   * A write whose statements are each atomic on their own on some database (a PostgreSQL claim is one
   * statement): `inStatements` may run it without a transaction around it, a round trip each for
   * BEGIN and COMMIT saved. It writes no task, so no task listener is told.
   */
  private writeStatements<T>(fn: (ops: StoreOps) => Promise<T>): Promise<T> {
    this.refuseInsideTransaction();
    return this.inStatements(fn);
  }

  /** Runs `fn`'s statements each atomic on its own where the database allows it; by default in one transaction. */
  protected inStatements<T>(fn: (ops: StoreOps) => Promise<T>): Promise<T> {
    return this.inTransaction((conn) => fn(sqliteOps(conn)));
  }

  private async read<T>(fn: (ops: StoreOps) => Promise<T>): Promise<T> {
    this.refuseInsideTransaction();
    return this.inRead(fn);
  }

  /**
   * A call on the store from inside `transaction(fn)` would run outside that transaction (and on
   * SQLite's single connection, wait for it forever).
   */
  protected refuseInsideTransaction(): void {
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

  countTasksByState(project?: string, states?: readonly TaskState[]): Promise<Partial<Record<TaskState, number>>> {
    return this.read((ops) => ops.countTasksByState(project, states));
  }

  countTasksByAgent(project?: string): Promise<AgentTaskCount[]> {
    return this.read((ops) => ops.countTasksByAgent(project));
  }

  listTaskSummaries(states: readonly TaskState[]): Promise<TaskSummary[]> {
    return this.read((ops) => ops.listTaskSummaries(states));
  }

  listWaits(states: readonly TaskState[]): Promise<TaskWaits> {
    return this.read((ops) => ops.listWaits(states));
  }

  pageTasks(request: TaskPageRequest): Promise<TaskPage> {
    return this.read((ops) => ops.pageTasks(request));
  }

  countTasksByProjectState(filter?: { agent?: string; label?: string }): Promise<ProjectStateCount[]> {
    return this.read((ops) => ops.countTasksByProjectState(filter));
  }

  // Claims

  async claimTask(request: ClaimRequest): Promise<Claim | null> {
    const claim = await this.writeStatements((ops) => ops.claimTask(request));
    if (claim) this.tellCommitted(null);
    return claim;
  }

  async claimFirstFree(request: FirstFreeClaimRequest): Promise<Claim | null> {
    const claim = await this.writeStatements((ops) => ops.claimFirstFree(request));
    if (claim) this.tellCommitted(null);
    return claim;
  }

  renewClaim(taskId: number, token: number, leaseUntil: EpochMs): Promise<boolean> {
    return this.writeStatements((ops) => ops.renewClaim(taskId, token, leaseUntil));
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

  runCostSince(since: EpochMs, project?: string): Promise<Map<string, number>> {
    return this.read((ops) => ops.runCostSince(since, project));
  }

  metricTotals(now: EpochMs): Promise<MetricTotals> {
    return this.read((ops) => ops.metricTotals(now));
  }

  // Approvals

  createApproval(request: NewApproval, now: EpochMs, decision?: ApprovalDecision): Promise<Approval> {
    return this.write((ops) => ops.createApproval(request, now, decision));
  }

  decideApproval(id: number, decision: ApprovalDecision, now: EpochMs): Promise<Approval | null> {
    return this.write((ops) => ops.decideApproval(id, decision, now));
  }

  getApproval(id: number): Promise<Approval | undefined> {
    return this.read((ops) => ops.getApproval(id));
  }

  listApprovals(filter?: ApprovalFilter): Promise<Approval[]> {
    return this.read((ops) => ops.listApprovals(filter));
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

  appendEvents(events: readonly TimedEvent[]): Promise<OrchEvent[]> {
    if (events.length === 0) return Promise.resolve([]);
    return this.write((ops) => ops.appendEvents(events));
  }

  listEvents(filter?: EventFilter): Promise<OrchEvent[]> {
    return this.read((ops) => ops.listEvents(filter));
  }

  latestEventId(): Promise<number> {
    return this.read((ops) => ops.latestEventId());
  }

  cursorBefore(id: number): Promise<number | null> {
    return this.read((ops) => ops.cursorBefore(id));
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
}
