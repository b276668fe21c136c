import type { Kysely } from 'kysely';
import type { StoreOps } from '../store.js';
import { approvalOps } from './approval-ops.js';
import { claimOps } from './claim-ops.js';
import { cooldownOps } from './cooldown-ops.js';
import { eventOps } from './event-ops.js';
import { hostOps } from './host-ops.js';
import { jobOps } from './job-ops.js';
import { metricOps } from './metric-ops.js';
import { projectOps } from './project-ops.js';
import type { Database } from './schema.js';
import { runOps } from './run-ops.js';
import { taskOps } from './task-ops.js';
import { taskPageOps } from './task-page-ops.js';
import { webhookOps } from './webhook-ops.js';
import { workerOps } from './worker-ops.js';

/**
 * The store operations, run on whatever executor they are given: SqliteStore passes a connection
 * inside a write transaction for mutations. No operation opens a transaction of its own, and each
 * validates before it writes, so a refused call leaves nothing behind even inside a caller's
 * transaction that catches the error.
 */
export function sqliteOps(db: Kysely<Database>): StoreOps {
  return {
    ...projectOps(db),
    ...taskOps(db),
    ...taskPageOps(db),
    ...claimOps(db),
    ...runOps(db),
    ...eventOps(db),
    ...jobOps(db),
    ...cooldownOps(db),
    ...webhookOps(db),
    ...workerOps(db),
    ...hostOps(db),
    ...metricOps(db),
    ...approvalOps(db),
  };
}
