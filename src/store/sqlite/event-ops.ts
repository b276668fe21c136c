import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { EpochMs, OrchEvent } from '../../core/types.js';
import type { EventFilter, NewEvent, StoreOps } from '../store.js';
import { isPostgres } from './dialect.js';
import { toEvent } from './rows.js';
import type { Database } from './schema.js';

export type EventRecord = NewEvent & {
  project?: string | null;
  taskId?: number | null;
  runId?: number | null;
};

export type EventOps = Pick<StoreOps, 'appendEvent' | 'appendEvents' | 'listEvents' | 'latestEventId'>;

// Readers that resume after the last event they saw (the SSE stream, `orch watch`) must never pass
// an event that becomes visible later. SQLite has one writer at a time, so ids become visible in
// order. On PostgreSQL an id is drawn at insert and shows at commit, so a later id can show before
// an earlier one. Rather than make every writer of an event wait for the previous one's commit (one
// lock held to commit: it capped claims at about a hundred a second), each event records its
// transaction (`tx`), and a resuming reader reads in (tx, id) order only what transactions older than
// the oldest one still running wrote: every event that shows later has a greater (tx, id).

/** Below this transaction every writer has ended: what it wrote is visible for good. */
const SETTLED = sql<boolean>`tx < pg_snapshot_xmin(pg_current_snapshot())`;

export function eventOps(db: Kysely<Database>): EventOps {
  return {
    appendEvent: (event, now) => appendEvent(db, event, now),
    appendEvents: (events) => appendEvents(db, events),

    async listEvents(filter = {}) {
      if (filter.types?.length === 0) return [];
      if (filter.afterId !== undefined && isPostgres(db)) return listSettledAfter(db, filter, filter.afterId);
      let query = db.selectFrom('events').selectAll().orderBy('id', filter.newestFirst ? 'desc' : 'asc');
      if (filter.afterId !== undefined) query = query.where('id', '>', filter.afterId);
      return (await narrowed(query, filter).execute()).map(toEvent);
    },

    async latestEventId() {
      if (!isPostgres(db)) {
        const row = await db.selectFrom('events').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst();
        return row?.id ?? 0;
      }
      const { rows } = await sql<{ id: number }>`select id from events where ${SETTLED} order by tx desc, id desc limit 1`.execute(db);
      return rows[0]?.id ?? 0;
    },
  };
}

function narrowed<Query extends EventQuery>(query: Query, filter: EventFilter): Query {
  let narrow = query;
  if (filter.project !== undefined) narrow = narrow.where('project', '=', filter.project) as Query;
  if (filter.taskId !== undefined) narrow = narrow.where('task_id', '=', filter.taskId) as Query;
  if (filter.types) narrow = narrow.where('type', 'in', filter.types) as Query;
  if (filter.limit !== undefined) narrow = narrow.limit(filter.limit) as Query;
  return narrow;
}

type EventQuery = ReturnType<typeof selectEvents>;
const selectEvents = (db: Kysely<Database>) => db.selectFrom('events').selectAll();

/** PostgreSQL: the settled events after `afterId` in (tx, id) order (see above). */
async function listSettledAfter(db: Kysely<Database>, filter: EventFilter, afterId: number): Promise<OrchEvent[]> {
  const cursor = await sql<{ tx: string }>`select tx::text as tx from events where id = ${afterId}`.execute(db);
  const from = cursor.rows[0];
  let query = selectEvents(db).where(SETTLED).orderBy(sql`tx`).orderBy('id');
  // An id no event has (0, or one a reader made up) falls back to plain id order past it.
  query = from ? query.where(sql<boolean>`(tx, id) > (${from.tx}::xid8, ${afterId})`) : query.where('id', '>', afterId);
  return (await narrowed(query, filter).execute()).map(toEvent);
}

/** Rows per INSERT: well under SQLite's limit of bound parameters (32,766; six a row). */
const ROWS_PER_INSERT = 500;

/**
 * Appends many events, each at its own time, in the order given (ids ascending): a multi-row INSERT
 * per slice, so a busy stream of agent output costs one statement, not one per line.
 */
export async function appendEvents(db: Kysely<Database>, events: readonly { event: EventRecord; at: EpochMs }[]): Promise<number> {
  for (let from = 0; from < events.length; from += ROWS_PER_INSERT) {
    const slice = events.slice(from, from + ROWS_PER_INSERT);
    await db.insertInto('events').values(slice.map(({ event, at }) => eventRow(event, at))).execute();
  }
  return events.length;
}

const eventRow = (event: EventRecord, at: EpochMs) => ({
  at,
  type: event.type,
  project: event.project ?? null,
  task_id: event.taskId ?? null,
  run_id: event.runId ?? null,
  data: JSON.stringify(event.data ?? {}),
});

/** Appends one event; callers run it in the transaction of the change it describes. */
export async function appendEvent(
  db: Kysely<Database>,
  event: EventRecord,
  at: EpochMs,
): Promise<OrchEvent> {
  const row = await db
    .insertInto('events')
    .values(eventRow(event, at))
    .returningAll()
    .executeTakeFirstOrThrow();
  return toEvent(row);
}
