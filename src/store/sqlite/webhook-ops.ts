import type { Kysely } from 'kysely';
import type { StoreOps } from '../store.js';
import { appendEvent } from './event-ops.js';
import type { Database } from './schema.js';

export type WebhookOps = Pick<StoreOps, 'recordWebhookDelivery' | 'pruneWebhookDeliveries'>;

export function webhookOps(db: Kysely<Database>): WebhookOps {
  return {
    async recordWebhookDelivery(delivery, now, event) {
      // The primary key decides: of two identical deliveries racing, exactly one inserts a row.
      const result = await db
        .insertInto('webhook_deliveries')
        .values({ source: delivery.source, delivery_id: delivery.deliveryId, received_at: now })
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      if (Number(result.numInsertedOrUpdatedRows ?? 0n) === 0) return false;
      if (event) await appendEvent(db, event, now);
      return true;
    },

    async pruneWebhookDeliveries(before) {
      const result = await db.deleteFrom('webhook_deliveries').where('received_at', '<', before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
