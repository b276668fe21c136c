// What the notifier remembers, kept in the store as events: after each message a channel sent, how far
// through the event stream it had read (`notification.sent`, its `through` the cursor to resume from),
// when a new channel started listening (`notification.cursor`), and each failed send
// (`notification.failed`). A restart resumes each channel after its last message: nothing told twice,
// nothing missed. The records are also the audit trail of what was told, and `orch doctor` reads them.

import type { EpochMs, OrchEvent } from '../core/types.js';
import type { Store } from '../store/store.js';

export const NOTIFICATION_SENT = 'notification.sent';
export const NOTIFICATION_CURSOR = 'notification.cursor';
export const NOTIFICATION_FAILED = 'notification.failed';

/** How many of the latest records are read back to find each channel's (channels write one per message). */
const RECORDS_READ = 5000;

export interface ChannelRecord {
  /** Resume reading after this event id; null: the channel has no record yet. */
  cursor: number | null;
  lastSentAt: EpochMs | null;
  lastDigestAt: EpochMs | null;
  /** The latest outcome: the failure when the last send failed, else null. */
  lastFailure: { at: EpochMs; error: string; failures: number } | null;
}

const emptyRecord = (): ChannelRecord => ({ cursor: null, lastSentAt: null, lastDigestAt: null, lastFailure: null });

/** Each named channel's record, from the latest notification events. */
export async function readChannelRecords(store: Pick<Store, 'listEvents'>, channels: readonly string[]): Promise<Map<string, ChannelRecord>> {
  const events = await store.listEvents({ types: [NOTIFICATION_SENT, NOTIFICATION_CURSOR, NOTIFICATION_FAILED], newestFirst: true, limit: RECORDS_READ });
  const records = new Map(channels.map((name) => [name, emptyRecord()]));
  const outcomeSeen = new Set<string>();
  for (const event of events) {
    const name = typeof event.data.channel === 'string' ? event.data.channel : null;
    const record = name === null ? undefined : records.get(name);
    if (!record || name === null) continue;
    take(record, event, !outcomeSeen.has(name));
    if (event.type !== NOTIFICATION_CURSOR) outcomeSeen.add(name);
  }
  return records;
}

function take(record: ChannelRecord, event: OrchEvent, latestOutcome: boolean): void {
  const through = typeof event.data.through === 'number' ? event.data.through : null;
  if (event.type === NOTIFICATION_FAILED) {
    if (latestOutcome) record.lastFailure = { at: event.at, error: String(event.data.error ?? ''), failures: Number(event.data.failures ?? 1) };
    return;
  }
  if (record.cursor === null && through !== null) record.cursor = through;
  if (event.type !== NOTIFICATION_SENT) return;
  if (event.data.digest === true) record.lastDigestAt ??= event.at;
  else record.lastSentAt ??= event.at;
}
