import type { Orch } from './context.js';
import type { TaskRunSummary } from './runner.js';
import { Scheduler, type SchedulerProgress } from './scheduler.js';
import { TrackerSync } from './tracker-sync.js';

export type CycleProgress = SchedulerProgress;

export interface CycleOptions {
  /** Only this project's tasks. */
  project?: string;
  /** Drain: stop once no task is running and none is left to start (waiting out backoffs). Otherwise run until aborted. */
  once?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: CycleProgress) => void;
  /** How often to plan when nothing finishes; default the scheduler's tick interval. */
  pollMs?: number;
  sourceEnv?: NodeJS.ProcessEnv;
  /** The command line pull workers run as `orch` (default: the CLI of this Orch). */
  orchCli?: string[];
}

/**
 * The foreground loop behind `orch run`: recover what a crash left, then let the scheduler plan and run
 * the backlog (mirrored from the projects' trackers first) — up to the slots it allows, in parallel — planning again whenever a task finishes.
 */
export async function runCycle(orch: Orch, options: CycleOptions = {}): Promise<TaskRunSummary[]> {
  const trackers = new TrackerSync(orch, { env: options.sourceEnv });
  const scheduler = new Scheduler(orch, { project: options.project, onProgress: options.onProgress, pollMs: options.pollMs, sourceEnv: options.sourceEnv, orchCli: options.orchCli, trackers });
  await scheduler.recover();
  return scheduler.run({ signal: options.signal, drain: options.once });
}
