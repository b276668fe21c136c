import type { Kysely } from 'kysely';
import type { EpochMs, OrchEvent } from '../../core/types.js';
import type { NewEvent, StoreOps } from '../store.js';
import { holdEventOrder } from './dialect.js';
import { toEvent } from './rows.js';
import type { Database } from './schema.js';

export type EventRecord = NewEvent & {
  project?: string | null;
  taskId?: number | null;
  runId?: number | null;
};

export type EventOps = Pick<StoreOps, 'appendEvent' | 'listEvents'>;

export function eventOps(db: Kysely<Database>): EventOps {
  return {
    appendEvent: (event, now) => appendEvent(db, event, now),

    async listEvents(filter = {}) {
      if (filter.types?.length === 0) return [];
      let query = db.selectFrom('events').selectAll().orderBy('id', filter.newestFirst ? 'desc' : 'asc');
      if (filter.afterId !== undefined) query = query.where('id', '>', filter.afterId);
      if (filter.project !== undefined) query = query.where('project', '=', filter.project);
      if (filter.taskId !== undefined) query = query.where('task_id', '=', filter.taskId);
      if (filter.types) query = query.where('type', 'in', filter.types);
      if (filter.limit !== undefined) query = query.limit(filter.limit);
      return (await query.execute()).map(toEvent);
    },
  };
}

/** Appends one event; callers run it in the transaction of the change it describes. */
export async function appendEvent(
  db: Kysely<Database>,
  event: EventRecord,
  at: EpochMs,
): Promise<OrchEvent> {
  await holdEventOrder(db);
  const row = await db
    .insertInto('events')
    .values({
      at,
      type: event.type,
      project: event.project ?? null,
      task_id: event.taskId ?? null,
      run_id: event.runId ?? null,
      data: JSON.stringify(event.data ?? {}),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toEvent(row);
}
