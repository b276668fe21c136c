import { wakesScheduler } from '../core/wakeup.js';
import type { ListenOptions, WakeupSubscription } from '../wakeups/wakeup-port.js';
import type { Orch } from './context.js';

/**
 * With a database shared by several hosts (`orch.wakeups`): every wake-up any host sends — this one's
 * included, its store's committed task writes being announced where the bus is made (cross-host.ts) —
 * calls `onWake`, which asks the scheduler for a tick at once (bar those only saying events were
 * stored, which are for live views). Without one, nothing listens.
 */
export function listenForWakeups(orch: Pick<Orch, 'wakeups'>, onWake: () => void, options: ListenOptions = {}): WakeupSubscription {
  if (!orch.wakeups) return { close: async () => undefined };
  return orch.wakeups.listen((wakeup) => wakesScheduler(wakeup) && onWake(), options);
}
