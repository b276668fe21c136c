import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Attempt } from './attempt.js';
import type { Orch } from './context.js';
import { applyTransition } from './transitions.js';

/**
 * A full disk is a condition of the machine, not a bug of Orch: while it lasts nothing new starts, and
 * Orch keeps looking until there is room again. These are the errors that say the disk (or the
 * database's room on it) is full.
 */
export function isStorageFull(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    const code = (cause as NodeJS.ErrnoException).code;
    // 53100: PostgreSQL's disk_full.
    if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL' || code === '53100') return true;
    if (/database or disk is full|no space left on device/i.test(cause.message)) return true;
  }
  return false;
}

/** While the disk is full: since when, and the error that said so. */
export interface StorageFull {
  since: number;
  reason: string;
}

/** Room a probe writes in ORCH_HOME before Orch believes the disk has space again. */
const PROBE_BYTES = 64 * 1024;

/**
 * Whether there is room again: a file of PROBE_BYTES written and removed in ORCH_HOME, and one row
 * written to the store (the `storage.available` event saying the condition ended). Throws the error
 * that says there is not.
 */
export async function probeStorage(orch: Orch, full: StorageFull): Promise<void> {
  const probe = join(orch.home, `.storage-probe-${process.pid}`);
  try {
    writeFileSync(probe, Buffer.alloc(PROBE_BYTES));
  } finally {
    rmSync(probe, { force: true });
  }
  await orch.store.transaction((tx) =>
    tx.appendEvent({ type: 'storage.available', data: { fullSince: full.since, reason: full.reason } }, orch.now()),
  );
}

/**
 * An attempt the full disk stopped is not the task's failure: its run is closed and the task goes back
 * to the queue without using up an attempt, as after Orch's own death. When the store itself has no
 * room this fails too; the claim then runs out and recovery does the same.
 */
export async function giveBackAttempt(orch: Orch, attempt: Attempt, error: Error): Promise<void> {
  const reason = `the disk was full: ${error.message.split('\n')[0]}`;
  await orch.store.transaction(async (tx) => {
    const now = orch.now();
    const run = (await tx.getRun(attempt.run.id))!;
    await tx.updateRun(run.id, attempt.token, { endedAt: run.endedAt ?? now, outcome: run.outcome ?? 'crashed', result: { ...(run.result as object | null), reason } }, now, {
      type: 'run.failed',
      data: { reason },
    });
    const task = (await tx.getTask(attempt.task.id))!;
    if (task.state === 'running' || task.state === 'judging' || task.state === 'merging') {
      await applyTransition(tx, task, 'retry', { now, fence: attempt.token, reason, patch: { nextAttemptAt: null, attempts: Math.max(0, task.attempts - 1) } });
    }
  });
}
