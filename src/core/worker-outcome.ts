import type { WorkerOutcome } from './types.js';

/** Workers in a row that end without taking the work that was there before their project is paused. */
export const PAUSE_AFTER_IDLE_WORKERS = 3;

/**
 * How a worker that claimed nothing ended: a normal end when nothing was left for it, otherwise a
 * worker that did not do what it was asked (it counts towards pausing the project).
 */
export function unclaimedOutcome(readyLeft: number, howItEnded: string): { outcome: Extract<WorkerOutcome, 'no_work' | 'unclaimed'>; reason: string } {
  return readyLeft === 0
    ? { outcome: 'no_work', reason: `${howItEnded}; no ready task was left to claim` }
    : { outcome: 'unclaimed', reason: `${howItEnded} without claiming any of the ${readyLeft} ready task${readyLeft === 1 ? '' : 's'}` };
}

/**
 * Why a pull project should pause, or null: its last workers all ended without taking the ready work
 * (or could not even start). Otherwise every tick would start another worker that claims nothing, and
 * the backlog would never drain.
 */
export function idleWorkersPause(recent: readonly WorkerOutcome[], limit: number = PAUSE_AFTER_IDLE_WORKERS): string | null {
  if (recent.length < limit) return null;
  const last = recent.slice(-limit);
  if (!last.every((outcome) => outcome === 'unclaimed' || outcome === 'failed')) return null;
  return `paused: the last ${limit} workers ended without claiming any of the ready tasks (the last: ${last.at(-1)})`;
}
