import { lowestFreeSlot } from '../core/ports.js';
import { planTick, type PlannedWorker } from '../core/plan-tick.js';
import { reconcileRun, type ReconcileDecisionName } from '../core/reconcile.js';
import type { WorkerOutcome } from '../core/types.js';
import type { Orch } from './context.js';
import { recover, sweepWorkspaces, type Recovered } from './recovery.js';
import { isStorageFull, probeStorage, type StorageFull } from './storage-condition.js';
import { routeTask } from './router.js';
import { runTask, type TaskRunSummary } from './runner.js';
import { BudgetNotices } from './budget-notices.js';
import { gatherTickInput } from './tick-input.js';
import type { TrackerSync } from './tracker-sync.js';
import { settleWaits } from './wait-graph.js';
import { registerWorker, runWorker } from './worker.js';

export type SchedulerProgress =
  | { type: 'recovered'; recovered: Recovered[] }
  | { type: 'routing'; taskId: number }
  | { type: 'routed'; taskId: number; agent: string; model: string | null; by: string; reason: string }
  | { type: 'started'; taskId: number; title: string; agent: string; slot: number }
  | { type: 'finished'; summary: TaskRunSummary; elapsedMs: number }
  | { type: 'failed'; taskId: number; message: string }
  | { type: 'storage_full'; reason: string }
  | { type: 'storage_available'; fullForMs: number }
  | { type: 'cancelling'; taskId: number; decision: ReconcileDecisionName; reason: string }
  | { type: 'waiting'; untilMs: number; pending: number }
  | { type: 'worker_started'; workerId: number; project: string; agent: string; slot: number }
  | { type: 'worker_claimed'; workerId: number; taskId: number; title: string }
  | { type: 'worker_ended'; workerId: number; project: string; outcome: WorkerOutcome; reason: string };

export interface SchedulerOptions {
  /** Only this project's tasks. */
  project?: string;
  onProgress?: (progress: SchedulerProgress) => void;
  /** How often to tick when nothing asks for one; default the scheduler's tick interval. */
  pollMs?: number;
  sourceEnv?: NodeJS.ProcessEnv;
  /** Mirrors trackers into tasks before each plan, and progress back after. */
  trackers?: TrackerSync;
  /** The command line pull workers run as `orch` (default: the CLI of this Orch). */
  orchCli?: string[];
  /** Called as each tick begins: the daemon's heartbeat among the hosts sharing the store. */
  onTick?: () => Promise<void>;
}

export interface TickStats {
  ticks: number;
  lastTickMs: number | null;
  lastTickAt: number | null;
  /** Set while the disk is full: nothing new starts until there is room again. */
  storageFull: StorageFull | null;
}

interface InFlight {
  promise: Promise<void>;
  slot: number;
  controller: AbortController;
}

/** A pull worker this process runs: its task is known only once it has claimed one. */
interface WorkerInFlight extends InFlight {
  taskId: number | null;
}

/**
 * The one owner of dispatch in a process: it ticks on an interval and at once on request (requests
 * arriving during a tick are coalesced into one more tick), reconciles what is running against the
 * store before it plans, asks planTick what to start and starts it. `orch run` and `orch serve` both
 * drive it.
 */
export class Scheduler {
  readonly stats: TickStats = { ticks: 0, lastTickMs: null, lastTickAt: null, storageFull: null };
  private readonly inFlight = new Map<number, InFlight>();
  /** Tasks whose router runs now, off the tick's path: the tick leaves them out of its plans meanwhile. */
  private readonly routing = new Map<number, { promise: Promise<void>; controller: AbortController }>();
  /** Pull workers running, by a key of this process (a worker's id exists only once it is stored). */
  private readonly workers = new Map<number, WorkerInFlight>();
  private workerKeys = 0;
  private readonly results: TaskRunSummary[] = [];
  private wake: () => void = () => undefined;
  private tickRequested = false;
  private readonly budgetNotices: BudgetNotices;
  private dispatching = true;
  private reporting: Promise<void> | null = null;
  private reportAgain = false;

  constructor(
    private readonly orch: Orch,
    private readonly options: SchedulerOptions = {},
  ) {
    this.budgetNotices = new BudgetNotices(orch);
  }

  private progress(event: SchedulerProgress): void {
    this.options.onProgress?.(event);
  }

  /** Asks for a tick as soon as possible (a webhook, the CLI, a finished run). */
  requestTick(): void {
    this.tickRequested = true;
    this.wake();
  }

  /** A run or worker ended: this scheduler ticks, and so does every other host's sharing the database. */
  private slotFreed(taskId: number | null, project: string): void {
    this.orch.wakeups?.notify({ kind: 'slot_freed', project, ...(taskId === null ? {} : { taskId }) });
    this.requestTick();
  }

  /** Tasks this process is working on now, those its pull workers claimed included. */
  running(): number[] {
    const claimedByWorkers = [...this.workers.values()].map((w) => w.taskId).filter((id) => id !== null);
    return [...this.inFlight.keys(), ...claimedByWorkers];
  }

  /** Reclaims what a crash left behind and sweeps orphaned worktrees; call once before ticking. */
  async recover(): Promise<void> {
    const recovered = await recover(this.orch);
    if (recovered.length > 0) this.progress({ type: 'recovered', recovered });
    await sweepWorkspaces(this.orch);
  }

  /**
   * One pass: sync trackers, reconcile, settle waits, plan, dispatch, start pull workers, and hand the
   * tasks the plan routes to their project's router (in the background). Returns how many tasks and
   * workers it started plus how many tasks it sent to a router.
   */
  async tick(): Promise<number> {
    const began = Date.now();
    this.tickRequested = false;
    await this.options.onTick?.();
    if (this.stats.storageFull && !(await this.storageAvailable(this.stats.storageFull))) return this.finishTick(began, 0);
    if (this.options.trackers && this.dispatching) await this.options.trackers.syncDue();
    await this.reconcile();
    const { store, config } = this.orch;
    await store.transaction((tx) => settleWaits(tx, this.orch.now()));
    if (!this.dispatching) return this.finishTick(began, 0);
    const input = await gatherTickInput(store, config, this.orch.now());
    await this.budgetNotices.note(input.projects.values());
    const project = this.options.project;
    const tasks = input.tasks.filter((t) => (!project || t.project === project) && !this.routing.has(t.id));
    const plan = planTick({ ...input, tasks });
    let started = 0;
    for (const start of plan.starts) {
      if (this.inFlight.has(start.taskId)) continue;
      const task = await store.getTask(start.taskId);
      if (!task) continue;
      if (this.options.trackers && !(await this.options.trackers.claimBeforeStart(task))) continue;
      const slot = this.freeSlot();
      const controller = new AbortController();
      this.progress({ type: 'started', taskId: task.id, title: task.title, agent: start.agent, slot });
      const began = Date.now();
      const promise = runTask(this.orch, task.id, {
        agent: start.agent,
        routing: start.routing,
        slot,
        signal: controller.signal,
        sourceEnv: this.options.sourceEnv,
        tracker: this.options.trackers?.trackerOf(task.project),
      })
        .then(
          (summary) => {
            this.results.push(summary);
            this.progress({ type: 'finished', summary, elapsedMs: Date.now() - began });
          },
          (error: Error) => {
            this.noteStorageFull(error);
            this.progress({ type: 'failed', taskId: task.id, message: error.message.split('\n')[0]! });
          },
        )
        .finally(() => {
          this.inFlight.delete(task.id);
          this.slotFreed(task.id, task.project);
        });
      this.inFlight.set(task.id, { promise, slot, controller });
      started++;
    }
    for (const worker of plan.workers) {
      await this.startWorker(worker);
      started++;
    }
    for (const route of plan.routes) if (this.startRouting(route.taskId)) started++;
    return this.finishTick(began, started);
  }

  /** Runs the task's router in the background, within `scheduler.max_routers`; a tick follows its answer. */
  private startRouting(taskId: number): boolean {
    if (this.routing.has(taskId) || this.routing.size >= this.orch.config.scheduler.maxRouters) return false;
    const controller = new AbortController();
    this.progress({ type: 'routing', taskId });
    let failed = false;
    const promise = routeTask(this.orch, taskId, { signal: controller.signal, sourceEnv: this.options.sourceEnv })
      .then(
        (routed) => {
          if (routed) this.progress({ type: 'routed', taskId, agent: routed.decision.agent, model: routed.decision.model, by: routed.decision.by, reason: routed.decision.reason });
        },
        (error: Error) => {
          failed = true;
          this.progress({ type: 'failed', taskId, message: `routing failed: ${error.message.split('\n')[0]!}` });
        },
      )
      .finally(() => {
        this.routing.delete(taskId);
        // A failure that is not the router's (the store, the config) waits for the next interval, not a hot loop.
        if (!failed) this.requestTick();
      });
    this.routing.set(taskId, { promise, controller });
    return true;
  }

  /**
   * Tells trackers what moved, off the tick's path: one report pass at a time. A tick ending while a
   * pass runs asks for one more after it, since that pass may have read the tasks before they moved.
   */
  private reportToTrackers(): void {
    const trackers = this.options.trackers;
    if (!trackers) return;
    if (this.reporting) {
      this.reportAgain = true;
      return;
    }
    this.reportAgain = false;
    this.reporting = trackers.reportChanges().catch(() => undefined).finally(() => {
      this.reporting = null;
      if (this.reportAgain) this.reportToTrackers();
    });
  }

  /** Waits for the report pass in progress (tests, and a clean stop). */
  async reported(): Promise<void> {
    while (this.reporting) await this.reporting;
  }

  /**
   * Starts a pull worker. It is stored before the tick ends, so the next tick counts its slot; once it
   * ends, the slot is free and the next tick may start another.
   */
  private async startWorker(plan: PlannedWorker): Promise<void> {
    const key = ++this.workerKeys;
    const slot = this.freeSlot();
    const controller = new AbortController();
    const began = Date.now();
    const registered = await registerWorker(this.orch, plan);
    this.progress({ type: 'worker_started', workerId: registered.id, project: plan.project, agent: plan.agent, slot });
    const flight: WorkerInFlight = { promise: Promise.resolve(), slot, controller, taskId: null };
    flight.promise = runWorker(this.orch, registered, plan, {
      slot,
      signal: controller.signal,
      sourceEnv: this.options.sourceEnv,
      orchCli: this.options.orchCli,
      onClaimed: (worker, task) => {
        flight.taskId = task.id;
        this.progress({ type: 'worker_claimed', workerId: worker.id, taskId: task.id, title: task.title });
      },
    })
      .then(
        ({ worker, task }) => {
          if (task) {
            this.results.push(task);
            this.progress({ type: 'finished', summary: task, elapsedMs: Date.now() - began });
          }
          this.progress({ type: 'worker_ended', workerId: worker.id, project: worker.project, outcome: worker.outcome!, reason: worker.reason ?? '' });
        },
        (error: Error) => {
          this.noteStorageFull(error);
          this.progress({ type: 'worker_ended', workerId: registered.id, project: plan.project, outcome: 'failed', reason: error.message.split('\n')[0]! });
        },
      )
      .finally(() => {
        this.workers.delete(key);
        this.slotFreed(flight.taskId, plan.project);
      });
    this.workers.set(key, flight);
  }

  /** Enters the full-disk condition when `error` says the disk is full; false for any other error. */
  private noteStorageFull(error: unknown): boolean {
    if (!isStorageFull(error)) return false;
    if (this.stats.storageFull === null) {
      const reason = (error as Error).message.split('\n')[0]!;
      this.stats.storageFull = { since: this.orch.now(), reason };
      this.progress({ type: 'storage_full', reason });
    }
    return true;
  }

  /** Whether the disk has room again (then the condition ends); false while it is still full. */
  private async storageAvailable(full: StorageFull): Promise<boolean> {
    try {
      await probeStorage(this.orch, full);
    } catch (error) {
      if (isStorageFull(error)) return false;
      throw error;
    }
    this.stats.storageFull = null;
    this.progress({ type: 'storage_available', fullForMs: this.orch.now() - full.since });
    return true;
  }

  private freeSlot(): number {
    return lowestFreeSlot([...this.inFlight.values(), ...this.workers.values()].map((r) => r.slot));
  }

  private finishTick(began: number, started: number): number {
    this.reportToTrackers();
    this.stats.ticks++;
    this.stats.lastTickMs = Date.now() - began;
    this.stats.lastTickAt = this.orch.now();
    return started;
  }

  /**
   * Reconciliation of what runs here against the store, where people and the trackers' reconciliation
   * move tasks: a run whose task was cancelled stops and its worktree goes; a run whose task was put on
   * hold stops and keeps its worktree, to go on from it later. Each stop is recorded with its decision.
   */
  private async reconcile(): Promise<void> {
    const flights = new Map<number, InFlight>(this.inFlight);
    for (const worker of this.workers.values()) if (worker.taskId !== null) flights.set(worker.taskId, worker);
    if (flights.size === 0) return;
    const tasks = await this.orch.store.listTasks({ ids: [...flights.keys()] });
    for (const task of tasks) {
      const flight = flights.get(task.id);
      if (!flight || flight.controller.signal.aborted) continue;
      const { decision, reason } = reconcileRun(task.state);
      if (decision === 'keep_running') continue;
      // A run whose agent has ended moved the task there itself (merged it, or blocked it on its result)
      // and is finishing up: nothing to stop. A cancel still stops whatever step it is at.
      if (task.state !== 'cancelled' && this.inFlight.has(task.id) && (await this.orch.store.listRuns({ taskId: task.id, open: true })).length === 0) continue;
      this.progress({ type: 'cancelling', taskId: task.id, decision, reason });
      await this.orch.store.appendEvent({ type: 'task.reconciled', project: task.project, taskId: task.id, data: { decision, reason } }, this.orch.now());
      flight.controller.abort();
    }
  }

  /**
   * Ticks until `signal` aborts (or, with `drain`, until no task runs and none is left that could start
   * without a person, waiting out backoffs and cooldowns), then waits for running tasks — at most
   * `graceMs` when given. Returns the summaries of finished tasks.
   */
  async run(options: { signal?: AbortSignal; drain?: boolean; graceMs?: number } = {}): Promise<TaskRunSummary[]> {
    const pollMs = this.options.pollMs ?? this.orch.config.scheduler.tickIntervalS * 1000;
    options.signal?.addEventListener('abort', () => this.wake(), { once: true });
    while (!options.signal?.aborted) {
      let started = 0;
      const tickAt = this.orch.now();
      try {
        started = await this.tick();
      } catch (error) {
        // A full disk pauses dispatch until the next ticks find room again; anything else is Orch's bug.
        if (!this.noteStorageFull(error)) throw error;
        this.stats.ticks++;
      }
      let delay = this.tickRequested ? 0 : pollMs;
      if (delay > 0 && !options.drain) {
        // A backoff or cooldown that ends before the next interval is a reason to tick then.
        const due = await this.soonestDue();
        if (due !== null) delay = Math.min(delay, Math.max(10, due - this.orch.now()));
      }
      if (options.drain && this.inFlight.size === 0 && this.routing.size === 0 && this.workers.size === 0) {
        const next = await this.nextDue(started, tickAt);
        if (next === null) break;
        delay = next;
      }
      if (delay > 0) await this.sleep(delay, options.signal);
    }
    // Stopped: nothing new starts or is routed; running tasks get until the grace period ends, then are left to recovery.
    this.stopDispatching();
    for (const { controller } of this.routing.values()) controller.abort();
    await Promise.all([...this.routing.values()].map((r) => r.promise));
    await this.drainInFlight(options.graceMs);
    // The last word to the trackers: how the tasks that just finished ended.
    await this.reporting;
    await this.options.trackers?.reportChanges().catch(() => undefined);
    return this.results;
  }

  /** When the earliest backoff or cooldown in the future ends (epoch ms), or null when none does. */
  private async soonestDue(): Promise<number | null> {
    const { store } = this.orch;
    const now = this.orch.now();
    const pending = await store.listTasks({ project: this.options.project, states: ['routed'] });
    const due = pending.map((t) => t.nextAttemptAt ?? 0).filter((at) => at > now);
    const cooldowns = (await store.activeCooldowns(now)).map((c) => c.until);
    const soonest = Math.min(...due, ...cooldowns);
    return Number.isFinite(soonest) ? soonest : null;
  }

  /** How long until something pending may start; null when nothing ever will without a person. */
  private async nextDue(started: number, tickAt: number): Promise<number | null> {
    const { store } = this.orch;
    const pending = await store.listTasks({ project: this.options.project, states: ['new', 'routed'] });
    if (pending.length === 0) return null;
    const now = this.orch.now();
    const due = pending.map((t) => t.nextAttemptAt ?? 0).filter((at) => at > now);
    const cooldowns = (await store.activeCooldowns(now)).map((c) => c.until);
    const soonest = Math.min(...due, ...cooldowns);
    // Tick again when the last tick started something, or when a task became startable after it looked
    // (its backoff ran out, or it was written since: a run that just ended sent it back); else nothing can start.
    const changedSinceTick = pending.some((t) => Math.max(t.updatedAt, t.nextAttemptAt ?? 0) > tickAt);
    if (!Number.isFinite(soonest)) return started > 0 || changedSinceTick ? 0 : null;
    const delay = Math.max(50, soonest - now);
    this.progress({ type: 'waiting', untilMs: now + delay, pending: pending.length });
    return delay;
  }

  /**
   * Sleeps until `ms` pass or someone wakes the loop. A tick requested (or a stop asked for) between the
   * end of the last tick and this sleep is not lost: there was nobody to wake then, so it is seen here.
   */
  private sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.tickRequested || signal?.aborted) {
        resolve();
        return;
      }
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Stops starting new work; running tasks carry on. */
  stopDispatching(): void {
    this.dispatching = false;
  }

  /** Waits for the tasks in flight; with a deadline, gives up waiting then (they are left to recovery). */
  async drainInFlight(deadlineMs?: number): Promise<boolean> {
    const all = Promise.all([...this.inFlight.values(), ...this.workers.values()].map((r) => r.promise)).then(() => true);
    if (deadlineMs === undefined) return all;
    return Promise.race([all, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), deadlineMs).unref())]);
  }
}
