import type { Orch } from './context.js';
import { DeliveryRetry, retryHeldDeliveries } from './delivery-retry.js';
import type { HeldDeliveryOutcome } from './delivery.js';
import type { TaskRunSummary } from './runner.js';
import { Scheduler, type SchedulerProgress } from './scheduler.js';
import { TrackerSync } from './tracker-sync.js';
import { listenForWakeups } from './wakeup-listener.js';

export type CycleProgress =
  | SchedulerProgress
  /** A held delivery tried again: landed (`summary` null) or still waiting, and why. */
  | { type: 'delivery'; project: string; commits: number; delivered: boolean; summary: string | null };

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
 * Held deliveries are tried again on a timer meanwhile, and once more before `once` returns.
 */
export async function runCycle(orch: Orch, options: CycleOptions = {}): Promise<TaskRunSummary[]> {
  // A change a watched tracker sees (a file moved in a markdown queue) ticks at once.
  const trackers = new TrackerSync(orch, { env: options.sourceEnv, onWake: () => scheduler.requestTick(), reportEachMove: true });
  const scheduler = new Scheduler(orch, { project: options.project, onProgress: options.onProgress, pollMs: options.pollMs, sourceEnv: options.sourceEnv, orchCli: options.orchCli, trackers });
  const told = (outcome: HeldDeliveryOutcome) =>
    options.onProgress?.({ type: 'delivery', project: outcome.project, commits: outcome.commits, delivered: outcome.result.delivered, summary: outcome.result.delivered ? null : (outcome.held?.summary ?? outcome.result.message) });
  const deliveries = new DeliveryRetry(orch, { project: options.project, onOutcome: told });
  await scheduler.recover();
  if (!options.once) deliveries.start();
  // Other hosts' new tasks and freed slots tick this loop at once, as they do a daemon's.
  const wakeups = listenForWakeups(orch, () => scheduler.requestTick());
  let results: TaskRunSummary[];
  try {
    results = await scheduler.run({ signal: options.signal, drain: options.once });
  } finally {
    await wakeups.close();
    trackers.close();
    await deliveries.stop();
  }
  if (options.once) for (const outcome of await retryHeldDeliveries(orch, { project: options.project })) told(outcome);
  return results;
}
