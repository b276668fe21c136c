import type { Kysely, Selectable } from 'kysely';
import type { Host } from '../../core/types.js';
import { StoreError, type StoreOps } from '../store.js';
import { appendEvent } from './event-ops.js';
import type { Database, HostsTable } from './schema.js';

// Plain queries only (insert … on conflict do nothing, update … returning): the same text runs on
// SQLite and PostgreSQL.

export type HostOps = Pick<StoreOps, 'registerHost' | 'heartbeatHost' | 'markHostStopped' | 'listHosts'>;

export function toHost(row: Selectable<HostsTable>): Host {
  return {
    name: row.name,
    machine: row.machine,
    pid: Number(row.pid),
    version: row.version,
    slots: Number(row.slots),
    startedAt: Number(row.started_at),
    heartbeatAt: Number(row.heartbeat_at),
    stoppedAt: row.stopped_at === null ? null : Number(row.stopped_at),
  };
}

export function hostOps(db: Kysely<Database>): HostOps {
  return {
    async registerHost(host, replacing) {
      if (replacing && replacing.name !== host.name) {
        throw new StoreError(`host ${host.name} cannot replace the registration of host ${replacing.name}`);
      }
      const values = {
        machine: host.machine,
        pid: host.pid,
        version: host.version,
        slots: host.slots,
        started_at: host.startedAt,
        heartbeat_at: host.startedAt,
        stopped_at: null,
      };
      // The primary key decides between two daemons taking a free name at once; a replacement is a
      // compare-and-set on the registration it replaces.
      const row = replacing
        ? await db
            .updateTable('hosts')
            .set(values)
            .where('name', '=', replacing.name)
            .where('started_at', '=', replacing.startedAt)
            .returningAll()
            .executeTakeFirst()
        : await db
            .insertInto('hosts')
            .values({ name: host.name, ...values })
            .onConflict((oc) => oc.column('name').doNothing())
            .returningAll()
            .executeTakeFirst();
      if (!row) return null;
      await appendEvent(
        db,
        { type: 'host.registered', data: { name: host.name, machine: host.machine, pid: host.pid, version: host.version, slots: host.slots, replaced: replacing !== null } },
        host.startedAt,
      );
      return toHost(row);
    },

    async heartbeatHost({ name, startedAt }, at) {
      // No event: heartbeats would drown the audit trail.
      const result = await db
        .updateTable('hosts')
        .set({ heartbeat_at: at })
        .where('name', '=', name)
        .where('started_at', '=', startedAt)
        .where('stopped_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async markHostStopped({ name, startedAt }, at) {
      const result = await db
        .updateTable('hosts')
        .set({ stopped_at: at, heartbeat_at: at })
        .where('name', '=', name)
        .where('started_at', '=', startedAt)
        .where('stopped_at', 'is', null)
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) return false;
      await appendEvent(db, { type: 'host.stopped', data: { name } }, at);
      return true;
    },

    async listHosts() {
      const rows = await db.selectFrom('hosts').selectAll().orderBy('name').execute();
      return rows.map(toHost);
    },
  };
}
