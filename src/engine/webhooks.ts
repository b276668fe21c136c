import type { OrchConfig } from '../config/schema.js';
import type { AcceptedWebhook } from '../core/webhooks.js';
import type { Orch } from './context.js';

/**
 * How long a delivery id is remembered. Senders redeliver within hours, and Linear's signed timestamp
 * refuses anything older than a minute anyway; only a signed delivery is ever recorded, so the table
 * grows no faster than the trackers send.
 */
export const WEBHOOK_DELIVERY_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

export type WebhookOutcome = 'recorded' | 'duplicate';

/**
 * Records an accepted delivery once, with its `webhook.received` event, forgetting deliveries past the
 * retention in the same transaction. `duplicate`: this delivery was seen before and nothing was written.
 */
export async function recordWebhook(orch: Orch, webhook: AcceptedWebhook): Promise<WebhookOutcome> {
  const now = orch.now();
  const project = projectOfWebhook(orch.config, webhook);
  const data: Record<string, unknown> = { source: webhook.source, delivery: webhook.deliveryId, event: webhook.event, action: webhook.action };
  if (webhook.repository !== null) data.repository = webhook.repository;
  if (webhook.team !== null) data.team = webhook.team;
  const recorded = await orch.store.transaction(async (tx) => {
    await tx.pruneWebhookDeliveries(now - WEBHOOK_DELIVERY_RETENTION_MS);
    return tx.recordWebhookDelivery({ source: webhook.source, deliveryId: webhook.deliveryId }, now, { type: 'webhook.received', project, data });
  });
  return recorded ? 'recorded' : 'duplicate';
}

/** The one project whose tracker is the repository or team the delivery names; null when none or several are. */
export function projectOfWebhook(config: OrchConfig, webhook: AcceptedWebhook): string | null {
  const matches = Object.values(config.projects).filter(({ tracker }) => {
    if (webhook.source === 'github') return tracker.kind === 'github' && webhook.repository !== null && tracker.repo.toLowerCase() === webhook.repository.toLowerCase();
    return tracker.kind === 'linear' && webhook.team !== null && tracker.team === webhook.team;
  });
  return matches.length === 1 ? matches[0]!.name : null;
}
