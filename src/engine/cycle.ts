import { lowestFreeSlot } from '../core/ports.js';
import { planTick } from '../core/plan-tick.js';
import type { Task } from '../core/types.js';
import type { Orch } from './context.js';
import { recover, sweepWorkspaces, type Recovered } from './recovery.js';
import { runTask, type TaskRunSummary } from './runner.js';
import { gatherTickInput } from './tick-input.js';
import { settleWaits } from './wait-graph.js';

export type CycleProgress =
  | { type: 'recovered'; recovered: Recovered[] }
  | { type: 'started'; taskId: number; title: string; agent: string; slot: number }
  | { type: 'finished'; summary: TaskRunSummary; elapsedMs: number }
  | { type: 'failed'; taskId: number; message: string }
  | { type: 'waiting'; untilMs: number; pending: number };

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
}

/**
 * The foreground loop behind `orch run`: recover what a crash left, then plan with planTick and carry
 * the plan out — up to the slots it allows, in parallel — planning again whenever a task finishes.
 */
export async function runCycle(orch: Orch, options: CycleOptions = {}): Promise<TaskRunSummary[]> {
  const progress = options.onProgress ?? (() => undefined);
  const recovered = await recover(orch);
  if (recovered.length > 0) progress({ type: 'recovered', recovered });
  await sweepWorkspaces(orch);
  const running = new Map<number, { promise: Promise<void>; slot: number }>();
  const results: TaskRunSummary[] = [];
  const pollMs = options.pollMs ?? orch.config.scheduler.tickIntervalS * 1000;
  let wake: () => void = () => undefined;

  while (!options.signal?.aborted) {
    await orch.store.transaction((tx) => settleWaits(tx, orch.now()));
    const input = await gatherTickInput(orch.store, orch.config, orch.now());
    const plan = planTick(options.project ? { ...input, tasks: input.tasks.filter((t) => t.project === options.project) } : input);
    for (const start of plan.starts) {
      if (running.has(start.taskId)) continue;
      const slot = lowestFreeSlot([...running.values()].map((r) => r.slot));
      const task = (await orch.store.getTask(start.taskId))!;
      progress({ type: 'started', taskId: task.id, title: task.title, agent: start.agent, slot });
      const began = Date.now();
      const promise = runTask(orch, start.taskId, { agent: start.agent, slot, signal: options.signal, sourceEnv: options.sourceEnv })
        .then(
          (summary) => {
            results.push(summary);
            progress({ type: 'finished', summary, elapsedMs: Date.now() - began });
          },
          (error: Error) => progress({ type: 'failed', taskId: start.taskId, message: error.message.split('\n')[0]! }),
        )
        .finally(() => {
          running.delete(start.taskId);
          wake();
        });
      running.set(start.taskId, { promise, slot });
    }

    let delay = pollMs;
    if (options.once && running.size === 0) {
      const pending = await pendingTasks(orch, options.project);
      if (pending.length === 0) break;
      // Something waits (a backoff, a cooldown): sleep until the earliest is due, then plan again.
      const due = pending.map((t) => t.nextAttemptAt ?? 0).filter((at) => at > orch.now());
      const cooldowns = (await orch.store.activeCooldowns(orch.now())).map((c) => c.until);
      const soonest = Math.min(...due, ...cooldowns);
      if (!Number.isFinite(soonest) && plan.starts.length === 0) break; // nothing can ever start: stop
      delay = Number.isFinite(soonest) ? Math.max(50, soonest - orch.now()) : 50;
      progress({ type: 'waiting', untilMs: orch.now() + delay, pending: pending.length });
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delay);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
      options.signal?.addEventListener('abort', () => wake(), { once: true });
    });
  }
  await Promise.all([...running.values()].map((r) => r.promise));
  return results;
}

/** Tasks that may still start without a person: new or routed (blocked ones wait on others). */
async function pendingTasks(orch: Orch, project?: string): Promise<Task[]> {
  return orch.store.listTasks({ project, states: ['new', 'routed'] });
}
