import { join } from 'node:path';
import { VERDICT_END_REASONS } from '../core/end-reasons.js';
import { runSucceeded } from '../core/run-stats.js';
import { diskUsage } from '../workspace/disk-usage.js';
import type { Orch } from './context.js';
import { recover, type Recovered } from './recovery.js';

export interface PatrolReport {
  recovered: Recovered[];
  paused: { project: string; reason: string }[];
  diskWarnings: { project: string; bytes: number }[];
}

/** Consecutive failed attempts that pause a project: something is wrong beyond one task. */
export const PAUSE_AFTER_FAILURES = 5;
/** Disk use of a project's clone and worktrees past which patrol warns. */
export const DISK_WARNING_BYTES = 10 * 1024 ** 3;

/**
 * The daemon's rounds: leases that expired (their owner died or hung) are reclaimed and their tasks
 * retried; a project whose last attempts all failed is paused, with an event saying why; disk use past
 * the limit is warned about. Tasks this process runs itself are left alone.
 */
export async function patrol(orch: Orch, running: ReadonlySet<number>, options: { checkDisk?: boolean } = {}): Promise<PatrolReport> {
  const report: PatrolReport = { recovered: await recover(orch, { skip: running }), paused: [], diskWarnings: [] };
  for (const project of await orch.store.listProjects()) {
    if (project.paused || !orch.config.projects[project.name]) continue;
    // Only failures since a person last resumed the project count, or resuming would not stick.
    // Both read by index, newest first: a patrol costs the same with ten runs or a million.
    const resumedAt = (await orch.store.listEvents({ project: project.name, types: ['project.resumed'], newestFirst: true, limit: 1 }))[0]?.at ?? 0;
    const recent = (await orch.store.listRuns({ project: project.name, endedAfter: resumedAt, endReasons: VERDICT_END_REASONS, latestEndedFirst: true, limit: PAUSE_AFTER_FAILURES })).reverse();
    if (recent.length === PAUSE_AFTER_FAILURES && !recent.some(runSucceeded)) {
      const reason = `paused by patrol: the last ${PAUSE_AFTER_FAILURES} attempts failed (last: ${recent.at(-1)!.endReason})`;
      await orch.store.setProjectPaused(project.name, true, reason, orch.now(), { type: 'project.paused', data: { reason, by: 'patrol' } });
      report.paused.push({ project: project.name, reason });
    }
    if (options.checkDisk) {
      const bytes = await diskUsage(join(orch.home, 'projects', project.name));
      if (bytes > DISK_WARNING_BYTES) {
        report.diskWarnings.push({ project: project.name, bytes });
        await orch.store.appendEvent({ type: 'project.disk_warning', project: project.name, data: { bytes } }, orch.now());
      }
    }
  }
  return report;
}
