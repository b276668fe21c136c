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

export type EventOps = Pick<StoreOps, 'appendEvent' | 'appendEvents' | 'listEvents' | 'latestEventId' | 'cursorBefore'>;

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

    async cursorBefore(id) {
      // One writer at a time, ids drawn in commit order: whatever id comes before, nothing lies between.
      if (!isPostgres(db)) return id - 1;
      // Once the event's transaction is below every open one, nothing can become visible before it.
      const { rows } = await sql<{ settled: boolean; previous: string | null }>`
        select next.tx < pg_snapshot_xmin(pg_current_snapshot()) as settled,
          (select e.id::text from events e where (e.tx, e.id) < (next.tx, next.id) order by e.tx desc, e.id desc limit 1) as previous
        from events next where next.id = ${id}`.execute(db);
      const row = rows[0];
      if (!row) throw new Error(`no event ${id}`);
      return row.settled ? Number(row.previous ?? 0) : null;
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

/**
 * The events one transaction stores, noted as they are appended so that, once it commits, they can
 * be handed to this process's live views without reading them back. `complete` is false when some
 * statement stored events it could not note (the PostgreSQL claim's single statement).
 */
export interface EventCapture {
  events: OrchEvent[];
  complete: boolean;
}

const captures = new WeakMap<Kysely<Database>, EventCapture>();

/** Notes every event appended through `conn` (one transaction's connection) from now on. */
export function captureEvents(conn: Kysely<Database>): EventCapture {
  const capture: EventCapture = { events: [], complete: true };
  captures.set(conn, capture);
  return capture;
}

/** Says that `db` stored events the capture could not note. */
export function eventsNotCaptured(db: Kysely<Database>): void {
  const capture = captures.get(db);
  if (capture) capture.complete = false;
}

/** Rows per INSERT: well under SQLite's limit of bound parameters (32,766; six a row). */
const ROWS_PER_INSERT = 500;

/**
 * Appends many events, each at its own time, in the order given (ids ascending): a multi-row INSERT
 * per slice, so a busy stream of agent output costs one statement, not one per line. Returns them as
 * stored, with their ids, as a read would give them.
 */
export async function appendEvents(db: Kysely<Database>, events: readonly { event: EventRecord; at: EpochMs }[]): Promise<OrchEvent[]> {
  const stored: OrchEvent[] = [];
  for (let from = 0; from < events.length; from += ROWS_PER_INSERT) {
    const slice = events.slice(from, from + ROWS_PER_INSERT);
    const rows = slice.map(({ event, at }) => eventRow(event, at));
    const inserted = await db.insertInto('events').values(rows).returning('id').execute();
    // One statement draws its ids in the order of its rows; RETURNING may list them in any order.
    const ids = inserted.map((row) => Number(row.id)).sort((a, b) => a - b);
    if (ids.length !== rows.length) throw new Error(`stored ${ids.length} of ${rows.length} events`);
    for (let i = 0; i < rows.length; i++) stored.push(storedEvent(ids[i]!, rows[i]!, slice[i]!.event.data));
  }
  captures.get(db)?.events.push(...stored);
  return stored;
}

/** The event a read of `row` would give, its data the object that was serialised into the row. */
function storedEvent(id: number, row: ReturnType<typeof eventRow>, data: Record<string, unknown> | undefined): OrchEvent {
  return { id, at: row.at, type: row.type, project: row.project, taskId: row.task_id, runId: row.run_id, data: data ?? {} };
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
  const stored = toEvent(row);
  captures.get(db)?.events.push(stored);
  return stored;
}
