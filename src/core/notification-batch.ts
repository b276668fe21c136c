// When a channel speaks: notices gather while the channel is quiet, and go out together as one
// message, so a burst (twenty tasks escalated in a minute) is one message listing them rather than
// twenty. A notice told once in a batch is not told twice (same key). The daily digest is due once
// per UTC day per channel, at a set hour.

import type { EpochMs } from './types.js';
import type { Notice } from './notifications.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;

/** `pending` with `incoming` added, each key once (the first seen stays), in the order seen. */
export function gatherNotices(pending: readonly Notice[], incoming: readonly Notice[]): Notice[] {
  const keys = new Set(pending.map((notice) => notice.key));
  const gathered = [...pending];
  for (const notice of incoming) {
    if (keys.has(notice.key)) continue;
    keys.add(notice.key);
    gathered.push(notice);
  }
  return gathered;
}

/**
 * When the pending notices go out: once the oldest has waited `quietMs` (so a burst gathers), and not
 * sooner than `quietMs` after the channel's last message. Null when nothing waits.
 */
export function sendAt(pending: readonly Notice[], lastSentAt: EpochMs | null, quietMs: number): EpochMs | null {
  if (pending.length === 0) return null;
  const oldest = Math.min(...pending.map((notice) => notice.at));
  const gathered = oldest + quietMs;
  return lastSentAt === null ? gathered : Math.max(gathered, lastSentAt + quietMs);
}

/** The start of the UTC day `at` falls in. */
export function startOfUtcDay(at: EpochMs): EpochMs {
  return Math.floor(at / DAY_MS) * DAY_MS;
}

/** True when today's digest (due at `hourUtc` o'clock UTC) has not gone out yet and its hour has come. */
export function digestDue(lastDigestAt: EpochMs | null, now: EpochMs, hourUtc: number): boolean {
  const slot = startOfUtcDay(now) + hourUtc * HOUR_MS;
  if (now < slot) return false;
  return lastDigestAt === null || lastDigestAt < slot;
}

/** When the next digest is due after `now`, given the last one: today's slot or tomorrow's. */
export function nextDigestAt(lastDigestAt: EpochMs | null, now: EpochMs, hourUtc: number): EpochMs {
  const slot = startOfUtcDay(now) + hourUtc * HOUR_MS;
  if (now < slot || lastDigestAt === null || lastDigestAt < slot) return Math.max(slot, now);
  return slot + DAY_MS;
}
