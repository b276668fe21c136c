// What the fake GitHub remembers of CI on a repository's commits: GitHub Actions workflow runs, their
// jobs (each job is also a check run, sharing its id, as on GitHub), one check suite per run, the job
// logs, and commit statuses. Tests script a scenario through `setCheckRun` and `addStatus`; the routes
// read the same records, and re-running failed jobs starts a new attempt with new job ids.

import { NotFoundError, type FakeClock, type IdSource } from './state.js';

export const CHECK_CONCLUSIONS = ['success', 'failure', 'neutral', 'cancelled', 'skipped', 'timed_out', 'action_required'] as const;
export type CheckConclusion = (typeof CHECK_CONCLUSIONS)[number];
export type CheckStatus = 'queued' | 'in_progress' | 'completed';
export const STATUS_STATES = ['error', 'failure', 'pending', 'success'] as const;
export type StatusState = (typeof STATUS_STATES)[number];

export interface WorkflowRunRecord {
  id: number;
  runNumber: number;
  /** The workflow's name, e.g. `CI`. */
  name: string;
  workflowId: number;
  headSha: string;
  headBranch: string | null;
  attempt: number;
  checkSuiteId: number;
  createdAt: number;
  updatedAt: number;
}

/** A job of a workflow run; its id is also its check run's id. */
export interface JobRecord {
  id: number;
  runId: number;
  name: string;
  headSha: string;
  headBranch: string | null;
  attempt: number;
  status: CheckStatus;
  conclusion: CheckConclusion | null;
  createdAt: number;
  startedAt: number;
  completedAt: number | null;
  log: string;
  /** The job of a later attempt that replaced this one; null while it is the latest. */
  supersededBy: number | null;
}

export interface StatusRecord {
  id: number;
  sha: string;
  state: StatusState;
  context: string;
  description: string | null;
  targetUrl: string | null;
  creator: string;
  createdAt: number;
  updatedAt: number;
}

export interface CheckRunScript {
  /** The job's (and check run's) name, e.g. `test`. */
  name: string;
  /** null: the job is still running. */
  conclusion: CheckConclusion | null;
  /** What the job's log download answers. */
  log?: string;
  /** The workflow it belongs to; default `CI`. */
  workflow?: string;
  headBranch?: string | null;
}

/** A conclusion that fails a check suite (and makes a pull request `unstable`). */
export const FAILING_CONCLUSIONS: ReadonlySet<string> = new Set(['failure', 'cancelled', 'timed_out', 'action_required']);

export class FakeChecks {
  readonly runs = new Map<number, WorkflowRunRecord>();
  readonly jobs = new Map<number, JobRecord>();
  readonly statuses: StatusRecord[] = [];
  private readonly workflowIds = new Map<string, number>();
  private lastRunNumber = 0;

  constructor(
    private readonly clock: FakeClock,
    private readonly ids: IdSource,
  ) {}

  /**
   * Sets the latest job named `name` of the workflow run on `sha` (creating the run and the job on first
   * use) to `conclusion`, with `log` as its log text.
   */
  setCheckRun(sha: string, script: CheckRunScript): JobRecord {
    const run = this.runFor(sha, script.workflow ?? 'CI', script.headBranch ?? null);
    const at = this.clock.tick();
    let job = this.latestJobs(run.id).find((candidate) => candidate.name === script.name);
    if (!job) {
      job = {
        id: this.ids.next(),
        runId: run.id,
        name: script.name,
        headSha: sha,
        headBranch: run.headBranch,
        attempt: run.attempt,
        status: 'queued',
        conclusion: null,
        createdAt: at,
        startedAt: at,
        completedAt: null,
        log: '',
        supersededBy: null,
      };
      this.jobs.set(job.id, job);
    }
    job.status = script.conclusion === null ? 'in_progress' : 'completed';
    job.conclusion = script.conclusion;
    job.completedAt = script.conclusion === null ? null : at;
    if (script.log !== undefined) job.log = script.log;
    run.updatedAt = at;
    return job;
  }

  run(id: number): WorkflowRunRecord {
    const run = this.runs.get(id);
    if (!run) throw new NotFoundError();
    return run;
  }

  job(id: number): JobRecord {
    const job = this.jobs.get(id);
    if (!job) throw new NotFoundError();
    return job;
  }

  /** The jobs of a run's latest attempt (those carried over from earlier attempts included). */
  latestJobs(runId: number): JobRecord[] {
    return [...this.jobs.values()].filter((job) => job.runId === runId && job.supersededBy === null);
  }

  jobsOf(runId: number, filter: 'latest' | 'all'): JobRecord[] {
    return filter === 'latest' ? this.latestJobs(runId) : [...this.jobs.values()].filter((job) => job.runId === runId);
  }

  /** Check runs on a commit: the latest of each by default, as GitHub's `filter=latest`. */
  checkRunsOn(sha: string, filter: 'latest' | 'all' = 'latest'): JobRecord[] {
    return [...this.jobs.values()].filter((job) => job.headSha === sha && (filter === 'all' || job.supersededBy === null));
  }

  runsOn(sha: string): WorkflowRunRecord[] {
    return [...this.runs.values()].filter((run) => run.headSha === sha);
  }

  runOfSuite(checkSuiteId: number): WorkflowRunRecord | undefined {
    return [...this.runs.values()].find((run) => run.checkSuiteId === checkSuiteId);
  }

  /** A run's status and conclusion, from its latest jobs as GitHub folds them. */
  runState(runId: number): { status: CheckStatus; conclusion: CheckConclusion | null } {
    const jobs = this.latestJobs(runId);
    if (jobs.some((job) => job.status !== 'completed')) return { status: jobs.some((job) => job.status === 'in_progress') ? 'in_progress' : 'queued', conclusion: null };
    const failed = jobs.find((job) => job.conclusion !== null && FAILING_CONCLUSIONS.has(job.conclusion));
    return { status: 'completed', conclusion: failed?.conclusion ?? 'success' };
  }

  /**
   * GitHub's "re-run failed jobs": a new attempt of the run in which every failed or cancelled job is
   * queued again under a new id; the jobs that passed are carried over. Refused while the run is going.
   */
  rerunFailedJobs(runId: number): WorkflowRunRecord {
    const run = this.run(runId);
    if (this.runState(runId).status !== 'completed') throw new RerunRefusedError('This workflow is already running');
    const failed = this.latestJobs(runId).filter((job) => job.conclusion !== null && FAILING_CONCLUSIONS.has(job.conclusion));
    if (failed.length === 0) throw new RerunRefusedError('There are no failed jobs to re-run');
    const at = this.clock.tick();
    run.attempt += 1;
    run.updatedAt = at;
    for (const old of failed) {
      const again: JobRecord = { ...old, id: this.ids.next(), attempt: run.attempt, status: 'queued', conclusion: null, createdAt: at, startedAt: at, completedAt: null, log: '', supersededBy: null };
      old.supersededBy = again.id;
      this.jobs.set(again.id, again);
    }
    return run;
  }

  addStatus(sha: string, fields: { state: StatusState; context?: string; description?: string | null; targetUrl?: string | null; creator: string }): StatusRecord {
    const at = this.clock.tick();
    const status: StatusRecord = {
      id: this.ids.next(),
      sha,
      state: fields.state,
      context: fields.context ?? 'default',
      description: fields.description ?? null,
      targetUrl: fields.targetUrl ?? null,
      creator: fields.creator,
      createdAt: at,
      updatedAt: at,
    };
    this.statuses.push(status);
    return status;
  }

  /** The newest status of each context on `sha`, newest first, and their combined state as GitHub computes it. */
  combinedStatus(sha: string): { state: 'failure' | 'pending' | 'success'; statuses: StatusRecord[] } {
    const latest = new Map<string, StatusRecord>();
    for (const status of this.statuses.filter((candidate) => candidate.sha === sha).reverse()) {
      if (!latest.has(status.context)) latest.set(status.context, status);
    }
    const statuses = [...latest.values()];
    const state = statuses.some((status) => status.state === 'error' || status.state === 'failure')
      ? 'failure'
      : statuses.length === 0 || statuses.some((status) => status.state === 'pending')
        ? 'pending'
        : 'success';
    return { state, statuses };
  }

  /** Whether CI on `sha` has anything failing or still going: what makes a pull request `unstable`. */
  unsettledOrFailing(sha: string): boolean {
    const checks = this.checkRunsOn(sha);
    if (checks.some((job) => job.status !== 'completed' || (job.conclusion !== null && FAILING_CONCLUSIONS.has(job.conclusion)))) return true;
    const combined = this.combinedStatus(sha);
    return combined.statuses.length > 0 && combined.state !== 'success';
  }

  workflowId(name: string): number {
    let id = this.workflowIds.get(name);
    if (id === undefined) {
      id = this.ids.next();
      this.workflowIds.set(name, id);
    }
    return id;
  }

  private runFor(sha: string, workflow: string, headBranch: string | null): WorkflowRunRecord {
    const existing = this.runsOn(sha).find((run) => run.name === workflow);
    if (existing) return existing;
    const at = this.clock.now();
    const run: WorkflowRunRecord = {
      id: this.ids.next(),
      runNumber: ++this.lastRunNumber,
      name: workflow,
      workflowId: this.workflowId(workflow),
      headSha: sha,
      headBranch,
      attempt: 1,
      checkSuiteId: this.ids.next(),
      createdAt: at,
      updatedAt: at,
    };
    this.runs.set(run.id, run);
    return run;
  }
}

/** GitHub's 403 for a re-run it will not start. */
export class RerunRefusedError extends Error {}
