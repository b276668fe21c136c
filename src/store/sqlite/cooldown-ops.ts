import type { Kysely } from 'kysely';
import type { Cooldown } from '../../core/types.js';
import type { StoreOps } from '../store.js';
import { appendEvent } from './event-ops.js';
import type { CooldownsTable, Database } from './schema.js';

export type CooldownOps = Pick<StoreOps, 'setCooldown' | 'activeCooldowns'>;

const toCooldown = (row: CooldownsTable): Cooldown => ({ key: row.key, until: row.until, reason: row.reason, setAt: row.set_at });

export function cooldownOps(db: Kysely<Database>): CooldownOps {
  return {
    async setCooldown(key, until, reason, now) {
      const existing = await db.selectFrom('cooldowns').selectAll().where('key', '=', key).executeTakeFirst();
      // Two runs hitting the same limit must not shorten each other's wait.
      if (existing && existing.until >= until) return toCooldown(existing);
      const row = { key, until, reason, set_at: now };
      await db.insertInto('cooldowns').values(row).onConflict((oc) => oc.column('key').doUpdateSet({ until, reason, set_at: now }).where('cooldowns.until', '<', until))
        .execute();
      await appendEvent(db, { type: 'agent.cooldown', data: { key, until, reason } }, now);
      return toCooldown(row);
    },

    async activeCooldowns(now) {
      const rows = await db.selectFrom('cooldowns').selectAll().where('until', '>', now).orderBy('key').execute();
      return rows.map(toCooldown);
    },
  };
}
