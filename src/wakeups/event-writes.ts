import type { Store } from '../store/store.js';
import type { WakeupBus } from './wakeup-port.js';

/** Commits in this window after a notification share the next one. */
const COALESCE_MS = 20;

/**
 * Tells every host's live views (the SSE stream) that this process stored events, once its writes
 * have committed. A busy process commits hundreds of times a second (every agent's output is stored as
 * events); notifying each would cost as much as the writes, so commits that follow a notification
 * within COALESCE_MS share the next one: one notification at most per window, the first without delay.
 * Returns the unsubscribe.
 */
export function announceEventWrites(store: Pick<Store, 'onCommitted'>, bus: Pick<WakeupBus, 'notify'>): () => void {
  let quietUntil = 0;
  let pending: NodeJS.Timeout | null = null;
  const send = () => {
    pending = null;
    quietUntil = Date.now() + COALESCE_MS;
    bus.notify({ kind: 'events_appended' });
  };
  const stop = store.onCommitted(() => {
    if (pending) return;
    const wait = quietUntil - Date.now();
    if (wait <= 0) send();
    else pending = setTimeout(send, wait);
  });
  return () => {
    stop();
    if (pending) clearTimeout(pending);
  };
}
