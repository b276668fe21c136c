import type { Approval, ApprovalDecision } from '../core/approvals.js';
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
import type {
  TimedEvent,
  NewEvent,
  NewProject,
  NewTask,
  TaskPatch,
  TaskFilter,
  TaskPageRequest,
  TaskPage,
  ProjectStateCount,
  NewRun,
  RunPatch,
  RunFilter,
  RunStatsFilter,
  AgentTaskCount,
  TaskSummary,
  TaskWaits,
  ClaimRequest,
  FirstFreeClaimRequest,
  NewWorker,
  WorkerPatch,
  WorkerFilter,
  NewApproval,
  ApprovalFilter,
  MetricTotals,
  EventFilter,
  NewJob,
  WebhookDelivery,
  NewHost,
  HostRegistration,
} from './store-types.js';

export * from './store-types.js';

/**
 * The store port: every durable fact of Orch goes through this contract. Implementations: SQLite
 * (embedded default) and PostgreSQL (shared by several processes and hosts). Both pass the same test
 * suite.
 *
 * Rules every implementation keeps:
 * - Each mutating call runs in one transaction, and the event that describes the change is appended
 *   in that same transaction (or none of it happens).
 * - Task and project updates are compare-and-set on `version`: a stale version throws
 *   VersionConflictError and writes nothing.
 * - A write that names a fencing token is applied only while the task's live claim carries that
 *   token; otherwise StaleFenceError, and nothing is written.
 * - At most one claim per task, enforced by a unique key in the database.
 */

export interface StoreOps {
  // Projects
  addProject(project: NewProject, now: EpochMs): Promise<Project>;
  getProject(name: string): Promise<Project | undefined>;
  listProjects(): Promise<Project[]>;
  /** Removes the project with its tasks, runs and claims; its events stay (they are the audit trail). */
  removeProject(name: string, now: EpochMs): Promise<boolean>;
  setProjectPaused(
    name: string,
    paused: boolean,
    reason: string | null,
    now: EpochMs,
    event?: NewEvent,
  ): Promise<Project>;

  // Tasks
  createTask(task: NewTask, now: EpochMs, event?: NewEvent): Promise<Task>;
  getTask(id: number): Promise<Task | undefined>;
  listTasks(filter?: TaskFilter): Promise<Task[]>;
  /**
   * Compare-and-set update. `expectedVersion` must equal the stored version; `fence`, when given,
   * must be the token of the task's live claim. The event is appended in the same transaction.
   */
  updateTask(
    id: number,
    guard: { expectedVersion?: number; fence?: number },
    patch: TaskPatch,
    now: EpochMs,
    event: NewEvent,
  ): Promise<Task>;
  /** Tasks per state, of one project or all; only of `states` when given (read by index). */
  countTasksByState(project?: string, states?: readonly TaskState[]): Promise<Partial<Record<TaskState, number>>>;
  /** Tasks with an agent, counted per project and agent: the round robin's memory. */
  countTasksByAgent(project?: string): Promise<AgentTaskCount[]>;
  /** The tasks in `states`, by id, as the tick weighs them: a narrow read by index. */
  listTaskSummaries(states: readonly TaskState[]): Promise<TaskSummary[]>;
  /** The dependencies and children of the tasks in `states`, read through indexes (none of the other tasks is read). */
  listWaits(states: readonly TaskState[]): Promise<TaskWaits>;
  /** A page of one state's tasks in the board's order, resumed after a cursor, by index. */
  pageTasks(request: TaskPageRequest): Promise<TaskPage>;
  /** Tasks per project and state in one grouped query (by index unless narrowed to a label). */
  countTasksByProjectState(filter?: { agent?: string; label?: string }): Promise<ProjectStateCount[]>;

  // Claims
  /** Atomically claims a task. Returns null when it already has a claim (expired or not). */
  claimTask(request: ClaimRequest): Promise<Claim | null>;
  /**
   * Claims the first of `taskIds`, in their order, that no one holds: processes claiming from the same
   * list take one each instead of all refused on its head but one. Null when every one is held (or
   * none is a task). On PostgreSQL one statement that skips the rows other claims have locked.
   */
  claimFirstFree(request: FirstFreeClaimRequest): Promise<Claim | null>;
  /** Extends a lease; false when the token is no longer the live one. */
  renewClaim(taskId: number, token: number, leaseUntil: EpochMs): Promise<boolean>;
  /** Releases a claim; false when the token is no longer the live one. */
  releaseClaim(taskId: number, token: number, now: EpochMs, event?: NewEvent): Promise<boolean>;
  getClaim(taskId: number): Promise<Claim | undefined>;
  listClaims(project?: string): Promise<Claim[]>;
  expiredClaims(now: EpochMs): Promise<Claim[]>;

  // Runs
  createRun(run: NewRun, fence: number, event?: NewEvent): Promise<Run>;
  updateRun(id: number, fence: number | null, patch: RunPatch, now: EpochMs, event?: NewEvent): Promise<Run>;
  getRun(id: number): Promise<Run | undefined>;
  listRuns(filter?: RunFilter): Promise<Run[]>;
  /**
   * Totals of the ended runs per project, agent, model and role of their task, computed by the
   * database: the scoreboard's input, without loading the runs.
   */
  runStats(filter?: RunStatsFilter): Promise<RunStatsRow[]>;
  /** What the runs started at or after `since` cost, per project (of one project when given): a sum in the database. */
  runCostSince(since: EpochMs, project?: string): Promise<Map<string, number>>;
  /**
   * What /metrics reports, from totals the database keeps as tasks and runs are written (by every
   * process sharing it): a few small reads, whatever the number of tasks and runs.
   */
  metricTotals(now: EpochMs): Promise<MetricTotals>;

  // Pull workers
  createWorker(worker: NewWorker, event?: NewEvent): Promise<Worker>;
  updateWorker(id: number, patch: WorkerPatch, now: EpochMs, event?: NewEvent): Promise<Worker>;
  /**
   * Records the task (and the run its claim opened) a worker took. Returns null, writing nothing,
   * when the worker already holds a task or has ended: a worker takes one task.
   */
  assignWorkerTask(id: number, assignment: { taskId: number; runId: number }, now: EpochMs): Promise<Worker | null>;
  getWorker(id: number): Promise<Worker | undefined>;
  listWorkers(filter?: WorkerFilter): Promise<Worker[]>;

  // Approvals: an agent's permission requests and questions
  /**
   * Records a request (event `approval.requested`); with `decision` (the rules answered at once), decided
   * in the same transaction (event `approval.decided`).
   */
  createApproval(request: NewApproval, now: EpochMs, decision?: ApprovalDecision): Promise<Approval>;
  /** Decides a pending request (event `approval.decided`); null, writing nothing, when it was decided already. */
  decideApproval(id: number, decision: ApprovalDecision, now: EpochMs): Promise<Approval | null>;
  getApproval(id: number): Promise<Approval | undefined>;
  /** Oldest first. */
  listApprovals(filter?: ApprovalFilter): Promise<Approval[]>;

  // Events
  appendEvent(
    event: NewEvent & { project?: string | null; taskId?: number | null; runId?: number | null },
    now: EpochMs,
  ): Promise<OrchEvent>;
  /**
   * Appends many events, each with its own time, in the order given; returns them as stored. Busy agent
   * output is stored this way, a batch per transaction rather than a transaction per line.
   */
  appendEvents(events: readonly TimedEvent[]): Promise<OrchEvent[]>;
  listEvents(filter?: EventFilter): Promise<OrchEvent[]>;
  /** The cursor (`afterId`) after which a reader sees only what is yet to come; 0 with no events. */
  latestEventId(): Promise<number>;
  /**
   * The cursor after which a resuming reader (`listEvents({ afterId })`) reads the stored event `id`
   * next, now and for good (0 when none comes before it); null while that is not settled yet (on
   * PostgreSQL, a transaction older than the event's is still open and may add an event before it).
   */
  cursorBefore(id: number): Promise<number | null>;

  // Jobs
  addJob(job: NewJob, now: EpochMs): Promise<Job>;
  getJob(name: string): Promise<Job | undefined>;
  listJobs(project?: string): Promise<Job[]>;
  removeJob(name: string, now: EpochMs): Promise<boolean>;
  setJobEnabled(name: string, enabled: boolean, now: EpochMs): Promise<Job>;
  markJobRun(name: string, at: EpochMs): Promise<void>;

  // Hosts
  /**
   * Registers a starting daemon. With `replacing` null, only when no host has the name yet; else only
   * while the row of that name is still the registration `replacing` names (a stale or stopped host
   * whose name is taken over). Returns null, writing nothing, when the name was taken meanwhile.
   */
  registerHost(host: NewHost, replacing: HostRegistration | null): Promise<Host | null>;
  /** Renews a host's heartbeat; false when its row is no longer this registration's (taken over). */
  heartbeatHost(host: HostRegistration, at: EpochMs): Promise<boolean>;
  /** Marks a host stopped as it stops cleanly; false when its row is no longer this registration's. */
  markHostStopped(host: HostRegistration, at: EpochMs): Promise<boolean>;
  /** Every host that ever registered under a name still held, by name. */
  listHosts(): Promise<Host[]>;

  // Cooldowns
  /** Puts an agent (or agent/model) in cooldown until `until`; a longer existing one is kept. */
  setCooldown(key: string, until: EpochMs, reason: string, now: EpochMs): Promise<Cooldown>;
  /** Cooldowns still in force at `now`. */
  activeCooldowns(now: EpochMs): Promise<Cooldown[]>;

  // Webhook deliveries
  /**
   * Records a delivery the first time it is seen, appending `event` with it; returns false and writes
   * nothing when the same source's delivery id is already recorded (a redelivery or a replay).
   */
  recordWebhookDelivery(
    delivery: WebhookDelivery,
    now: EpochMs,
    event?: NewEvent & { project?: string | null },
  ): Promise<boolean>;
  /** Forgets deliveries received before `before`; returns how many it forgot. */
  pruneWebhookDeliveries(before: EpochMs): Promise<number>;
}

export interface Store extends StoreOps {
  /**
   * Runs `fn` in one write transaction; everything it does commits or rolls back together. On
   * PostgreSQL a transaction that lost its connection before committing runs again from the start,
   * so `fn` must act through `tx` only.
   */
  transaction<T>(fn: (tx: StoreOps) => Promise<T>): Promise<T>;
  /**
   * Calls `listener` with each task this process creates or updates, once its transaction has
   * committed, in the order written (a rolled-back write is never heard of). Returns the unsubscribe.
   * Writes by other processes are not heard: they are seen on the next read.
   */
  onTaskWritten(listener: (task: Task) => void): () => void;
  /**
   * Calls `listener` after each write this store commits that stored events, or may have: with the
   * events it stored, in the order a resuming reader reads them, when it knows them all; with null
   * when it does not (a claim's event). Returns the unsubscribe.
   */
  onCommitted(listener: (stored: readonly OrchEvent[] | null) => void): () => void;
  /**
   * A number that changes when another connection commits to the database, this store's own commits
   * aside (SQLite's `PRAGMA data_version`): a cheap look for other processes' writes. Null where the
   * database tells of them itself (PostgreSQL's wake-ups).
   */
  othersWrites(): number | null;
  close(): Promise<void>;
}

export class StoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
export class NotFoundError extends StoreError {}
export class AlreadyExistsError extends StoreError {}
export class VersionConflictError extends StoreError {}
export class StaleFenceError extends StoreError {}
