// Jobs: cron schedules that add a task or run a command in a project's repository. The store keeps
// the jobs; this module checks them, fires them, and (JobScheduler) keeps a croner timer per enabled
// job while the daemon runs. Schedules are read in UTC, like the `{date}` and `{time}` of templates.

import { Cron } from 'croner';
import { agentBaseEnvironment } from '../agents/environment.js';
import { lowerFirst } from '../config/errors.js';
import { OrchError } from '../core/errors.js';
import {
  DEFAULT_JOB_TIMEOUT_S,
  checkJobName,
  jobTemplateVars,
  parseJobSpec,
  renderTemplate,
  type CommandJobSpec,
  type TaskJobSpec,
} from '../core/job-spec.js';
import type { EpochMs, Job } from '../core/types.js';
import { VersionConflictError } from '../store/store.js';
import { describeCommand, runCommand } from '../workspace/commands.js';
import type { Orch } from './context.js';
import { addTask } from './tasks.js';

// ---------------------------------------------------------------- schedules

const CRON_OPTIONS = { mode: '5-or-6-parts', timezone: 'UTC' } as const;

const FIELD_RANGES: Record<string, string> = {
  second: 'second must be 0-59',
  minute: 'minute must be 0-59',
  hour: 'hour must be 0-23',
  day: 'day of month must be 1-31',
  nearestWeekdays: 'day of month must be 1-31',
  month: 'month must be 1-12',
  dayOfWeek: 'day of week must be 0-7 (0 and 7 are Sunday)',
};

/** Shorthands croner expands; anything else must spell out its fields. */
const NICKNAMES = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

/** Collapses runs of blanks, so the stored schedule reads the same in every listing. */
const normalizeSchedule = (schedule: string) => schedule.trim().split(/\s+/).join(' ');

/**
 * A croner instance for a schedule (no callback, so no timer), or a one-line error that quotes the
 * schedule and says which field is wrong, in cron's own terms rather than croner's internal names.
 */
function parseSchedule(schedule: string): Cron {
  const fail = (why: string) => new OrchError('invalid_input', `schedule "${schedule}": ${why}`);
  const fields = schedule.split(' ').filter(Boolean);
  if (!NICKNAMES.has(schedule.toLowerCase()) && fields.length !== 5 && fields.length !== 6) {
    throw fail(`needs 5 fields (minute hour day month weekday) or 6 (seconds first), got ${fields.length}`);
  }
  let cron: Cron;
  try {
    cron = new Cron(schedule, CRON_OPTIONS);
  } catch (error) {
    const message = (error as Error).message.replace(/^CronPattern: /, '');
    const field = /^Invalid value for (\w+)/.exec(message)?.[1];
    throw fail(field && FIELD_RANGES[field] ? FIELD_RANGES[field] : lowerFirst(message));
  }
  // A schedule such as "0 0 30 2 *" parses but would never fire.
  if (cron.nextRun() === null) throw fail('never fires');
  return cron;
}

/** The next `count` times a schedule fires after `from`, for display. */
export function nextRuns(schedule: string, count: number, from: EpochMs): EpochMs[] {
  return parseSchedule(normalizeSchedule(schedule))
    .nextRuns(count, new Date(from))
    .map((date) => date.getTime());
}

// ---------------------------------------------------------------- managing jobs

export interface AddJobInput {
  name: string;
  project: string;
  schedule: string;
  kind: string;
  spec: unknown;
  enabled?: boolean;
}

/** A job with when it fires next (null when disabled or never again). */
export type JobInfo = Job & { nextRunAt: EpochMs | null };

async function requireJob(orch: Orch, name: string): Promise<Job> {
  const job = await orch.store.getJob(name);
  if (!job) throw new OrchError('not_found', `job "${name}" not found (see \`orch job list\`)`);
  return job;
}

/** Checks everything (name, schedule, project, spec) before writing anything, then stores the job. */
export async function addJob(orch: Orch, input: AddJobInput): Promise<JobInfo> {
  checkJobName(input.name);
  const schedule = normalizeSchedule(input.schedule);
  parseSchedule(schedule);
  const definition = parseJobSpec(input.kind, input.spec);
  const project = await orch.store.getProject(input.project);
  if (!project) throw new OrchError('not_found', `project "${input.project}" not found (see \`orch project list\`)`);
  if (definition.kind === 'command' && project.repoPath === null) {
    throw new OrchError('invalid_input', `project "${project.name}" has no local repository: a command job runs in one`);
  }
  if (definition.kind === 'task' && definition.spec.agent) requireAgent(orch, definition.spec.agent);
  if (await orch.store.getJob(input.name)) throw new OrchError('conflict', `job "${input.name}" already exists`);
  const job = await orch.store.addJob(
    { name: input.name, project: input.project, schedule, kind: definition.kind, spec: definition.spec, enabled: input.enabled },
    orch.now(),
  );
  return withNextRun(job, orch.now());
}

function requireAgent(orch: Orch, agent: string): void {
  if (!orch.config.agents[agent]) {
    throw new OrchError('not_found', `agent "${agent}" is not configured (configured: ${Object.keys(orch.config.agents).join(', ')})`);
  }
}

function withNextRun(job: Job, now: EpochMs): JobInfo {
  let nextRunAt: EpochMs | null = null;
  if (job.enabled) {
    try {
      nextRunAt = nextRuns(job.schedule, 1, now)[0] ?? null;
    } catch {
      // A schedule that no longer parses (the row was edited by hand) fires never; listing it still works.
    }
  }
  return { ...job, nextRunAt };
}

export async function listJobs(orch: Orch, options: { project?: string } = {}): Promise<JobInfo[]> {
  if (options.project !== undefined && !(await orch.store.getProject(options.project))) {
    throw new OrchError('not_found', `project "${options.project}" not found`);
  }
  const now = orch.now();
  return (await orch.store.listJobs(options.project)).map((job) => withNextRun(job, now));
}

export async function removeJob(orch: Orch, name: string): Promise<Job> {
  const job = await requireJob(orch, name);
  if (!(await orch.store.removeJob(name, orch.now()))) throw new OrchError('not_found', `job "${name}" not found`);
  return job;
}

export async function setJobEnabled(orch: Orch, name: string, enabled: boolean): Promise<JobInfo> {
  const job = await requireJob(orch, name);
  if (job.enabled === enabled) throw new OrchError('conflict', `job "${name}" is already ${enabled ? 'enabled' : 'disabled'}`);
  return withNextRun(await orch.store.setJobEnabled(name, enabled, orch.now()), orch.now());
}

// ---------------------------------------------------------------- firing

/** What one firing did. */
export type JobOutcome =
  | { kind: 'task'; taskId: number; title: string; agent: string | null; agentNotSet?: string }
  | {
      kind: 'command';
      command: string;
      exitCode: number | null;
      signal: string | null;
      timedOut: boolean;
      durationMs: number;
      spawnError: string | null;
      /** The last characters the command printed (stdout and stderr interleaved). */
      output: string;
    };

export interface FireOptions {
  /** Recorded in the event: the schedule fired it, or a person did (`orch job run`). */
  trigger?: 'schedule' | 'manual';
  /** Where a command's allow-listed environment comes from (default: this process's). */
  sourceEnv?: NodeJS.ProcessEnv;
}

/** Enough output to see why a command failed, small enough for an event row. */
const OUTPUT_TAIL = 4000;

/** A task was added, or the command ran and exited 0. */
export const outcomeSucceeded = (outcome: JobOutcome) =>
  outcome.kind === 'task' || (outcome.exitCode === 0 && !outcome.timedOut);

/**
 * Fires a job once: adds its task or runs its command, then records `job.fired` with the outcome and
 * marks the job run, together. A failure (the project gone, an unknown agent, …) is recorded as
 * `job.failed` and thrown; a command that runs and exits non-zero is an outcome, not a failure.
 */
export async function fireJob(orch: Orch, job: Job, now: EpochMs, options: FireOptions = {}): Promise<JobOutcome> {
  const trigger = options.trigger ?? 'schedule';
  try {
    const definition = parseJobSpec(job.kind, job.spec);
    const outcome =
      definition.kind === 'task'
        ? await fireTaskJob(orch, job, definition.spec, now)
        : await fireCommandJob(orch, job, definition.spec, options.sourceEnv ?? process.env);
    await orch.store.transaction(async (tx) => {
      await tx.appendEvent(
        {
          type: 'job.fired',
          project: job.project,
          taskId: outcome.kind === 'task' ? outcome.taskId : null,
          data: { name: job.name, trigger, ...outcome },
        },
        orch.now(),
      );
      // Removed while it ran: the outcome is still on record, there is just no job left to mark.
      if (await tx.getJob(job.name)) await tx.markJobRun(job.name, now);
    });
    return outcome;
  } catch (error) {
    const message = (error as Error).message.split('\n')[0]!;
    await orch.store
      .appendEvent({ type: 'job.failed', project: job.project, data: { name: job.name, trigger, error: message } }, orch.now())
      .catch(() => undefined); // the store itself failing is the error the caller gets anyway
    throw error;
  }
}

/** How many times the job fired before, counted from its `job.ran` events since it was (re)created. */
async function runsSoFar(orch: Orch, job: Job): Promise<number> {
  const events = await orch.store.listEvents({ project: job.project, types: ['job.ran'] });
  return events.filter((event) => event.data.name === job.name && event.at >= job.createdAt).length;
}

async function fireTaskJob(orch: Orch, job: Job, spec: TaskJobSpec, now: EpochMs): Promise<JobOutcome> {
  if (spec.agent) requireAgent(orch, spec.agent);
  // Counting runs reads the job's events: only worth it when a template asks for `{n}`.
  const wantsCount = [spec.title, spec.body ?? ''].some((text) => text.includes('{n}'));
  const vars = jobTemplateVars(job.name, wantsCount ? await runsSoFar(orch, job) : 0, now);
  const task = await addTask(
    orch.store,
    {
      project: job.project,
      title: renderTemplate(spec.title, vars),
      body: spec.body === undefined ? undefined : renderTemplate(spec.body, vars),
      labels: spec.labels,
      priority: spec.priority,
      role: spec.role,
    },
    now,
  );
  if (!spec.agent) return { kind: 'task', taskId: task.id, title: task.title, agent: null };
  // addTask has no agent field: route it right after, guarded by the version just read so a daemon
  // that already took the task is never overruled.
  const current = (await orch.store.getTask(task.id)) ?? task;
  try {
    await orch.store.updateTask(task.id, { expectedVersion: current.version }, { agent: spec.agent }, orch.now(), {
      type: 'task.agent',
      data: { agent: spec.agent, by: `job ${job.name}` },
    });
    return { kind: 'task', taskId: task.id, title: task.title, agent: spec.agent };
  } catch (error) {
    if (!(error instanceof VersionConflictError)) throw error;
    return { kind: 'task', taskId: task.id, title: task.title, agent: null, agentNotSet: 'the task was taken before its agent could be set' };
  }
}

async function fireCommandJob(orch: Orch, job: Job, spec: CommandJobSpec, sourceEnv: NodeJS.ProcessEnv): Promise<JobOutcome> {
  const project = await orch.store.getProject(job.project);
  if (!project) throw new OrchError('not_found', `project "${job.project}" not found`);
  if (project.repoPath === null) {
    throw new OrchError('invalid_input', `project "${project.name}" has no local repository: a command job runs in one`);
  }
  // Like an agent, a job's command sees only the allow-listed environment (no Orch tokens); it learns
  // which job it is through variables, never through its argv.
  const env = { ...agentBaseEnvironment(sourceEnv, []), ORCH_JOB: job.name, ORCH_PROJECT: job.project };
  const run = await runCommand(spec.command, {
    cwd: project.repoPath,
    env,
    timeoutMs: (spec.timeout_s ?? DEFAULT_JOB_TIMEOUT_S) * 1000,
    outputLimit: OUTPUT_TAIL,
  });
  return {
    kind: 'command',
    command: describeCommand(spec.command),
    exitCode: run.exitCode,
    signal: run.signal,
    timedOut: run.timedOut,
    durationMs: run.durationMs,
    spawnError: run.spawnError,
    output: run.output,
  };
}

/** Fires a job now, whether or not it is enabled (`orch job run`). */
export async function runJobNow(orch: Orch, name: string, options: Omit<FireOptions, 'trigger'> = {}): Promise<JobOutcome> {
  const job = await requireJob(orch, name);
  return fireJob(orch, job, orch.now(), { ...options, trigger: 'manual' });
}

// ---------------------------------------------------------------- the scheduler

export type JobNotice =
  | { type: 'fired'; job: string; outcome: JobOutcome }
  | { type: 'skipped'; job: string }
  /** `job` is null when the failure was reading the jobs (a reload), not one job's. */
  | { type: 'failed'; job: string | null; error: string };

export interface JobSchedulerOptions {
  /** Told about every firing, skip and failure (the daemon's log); must not throw. */
  onNotice?: (notice: JobNotice) => void;
  sourceEnv?: NodeJS.ProcessEnv;
}

/**
 * Keeps one croner timer per enabled job. `protect` makes croner skip a tick while the job's previous
 * firing still runs (recorded as `job.skipped`). Nothing a job does can reach croner as a rejection:
 * an unhandled one would end the process. After stop() no timer is left to keep Node alive.
 */
export class JobScheduler {
  private readonly timers = new Map<string, { cron: Cron; schedule: string }>();
  private readonly inFlight = new Set<Promise<void>>();
  private running = false;
  /** reload() calls run one after another, so two never time the same job twice. */
  private reloads: Promise<void> = Promise.resolve();

  constructor(
    private readonly orch: Orch,
    private readonly options: JobSchedulerOptions = {},
  ) {}

  /** Names of the jobs that have a timer, for status displays and tests. */
  get scheduled(): string[] {
    return [...this.timers.keys()].sort();
  }

  async start(): Promise<void> {
    this.running = true;
    await this.reload();
  }

  /**
   * Re-reads the jobs: times added and enabled jobs, drops removed and disabled ones, re-times changed
   * schedules. Never rejects (callers fire and forget it): when the jobs cannot be read, the timers
   * stay as they were and the failure goes to onNotice.
   */
  reload(): Promise<void> {
    this.reloads = this.reloads.then(() =>
      this.sync().catch((error: unknown) => this.notify({ type: 'failed', job: null, error: `cannot reload jobs: ${oneLine(error)}` })),
    );
    return this.reloads;
  }

  /** Stops every timer at once; resolves when the firings already under way have finished. */
  async stop(): Promise<void> {
    this.running = false;
    for (const { cron } of this.timers.values()) cron.stop();
    this.timers.clear();
    await Promise.allSettled([...this.inFlight]);
  }

  private async sync(): Promise<void> {
    if (!this.running) return;
    const jobs = (await this.orch.store.listJobs()).filter((job) => job.enabled);
    if (!this.running) return; // stopped while reading
    const wanted = new Map(jobs.map((job) => [job.name, job]));
    for (const [name, timer] of this.timers) {
      if (wanted.get(name)?.schedule === timer.schedule) continue;
      timer.cron.stop();
      this.timers.delete(name);
    }
    for (const job of jobs) {
      if (this.timers.has(job.name)) continue;
      try {
        this.timers.set(job.name, { cron: this.timerFor(job), schedule: job.schedule });
      } catch (error) {
        await this.failed(job, error);
      }
    }
  }

  private timerFor(job: Job): Cron {
    const name = job.name;
    return new Cron(
      job.schedule,
      {
        ...CRON_OPTIONS,
        protect: () => this.track(this.skipped(job)),
        // A last guard: fire() catches everything itself.
        catch: (error) => void this.failed(job, error),
      },
      () => this.track(this.fire(name)),
    );
  }

  /** Keeps the promise so stop() can wait for it, and resolves when it settles. */
  private track(work: Promise<void>): Promise<void> {
    this.inFlight.add(work);
    return work.finally(() => this.inFlight.delete(work));
  }

  private async fire(name: string): Promise<void> {
    if (!this.running) return;
    let job: Job | undefined;
    try {
      // Read at fire time: a job changed, disabled or removed since the last reload acts as it is now.
      job = await this.orch.store.getJob(name);
      if (!job?.enabled || !this.running) return;
      const outcome = await fireJob(this.orch, job, this.orch.now(), { trigger: 'schedule', sourceEnv: this.options.sourceEnv });
      this.notify({ type: 'fired', job: name, outcome });
    } catch (error) {
      // fireJob has recorded job.failed already; an error before it (reading the job) has not.
      if (job) this.notify({ type: 'failed', job: name, error: oneLine(error) });
      else await this.failed({ name, project: null }, error);
    }
  }

  private async skipped(job: Job): Promise<void> {
    if (!this.running) return;
    try {
      await this.orch.store.appendEvent(
        { type: 'job.skipped', project: job.project, data: { name: job.name, reason: 'its previous run is still running' } },
        this.orch.now(),
      );
    } catch {
      // Recording a skip is best effort; the notice below still reports it.
    }
    this.notify({ type: 'skipped', job: job.name });
  }

  private async failed(job: { name: string; project: string | null }, error: unknown): Promise<void> {
    try {
      await this.orch.store.appendEvent(
        { type: 'job.failed', project: job.project, data: { name: job.name, trigger: 'schedule', error: oneLine(error) } },
        this.orch.now(),
      );
    } catch {
      // The store is gone (shutting down): the notice is all that is left.
    }
    this.notify({ type: 'failed', job: job.name, error: oneLine(error) });
  }

  private notify(notice: JobNotice): void {
    try {
      this.options.onNotice?.(notice);
    } catch {
      // A broken listener must not stop the schedule.
    }
  }
}

const oneLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
