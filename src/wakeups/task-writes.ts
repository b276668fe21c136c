import { wakeupForTaskWrite } from '../core/wakeup.js';
import type { Store } from '../store/store.js';
import type { WakeupBus } from './wakeup-port.js';

/**
 * Tells every host about the tasks this process writes, once each write has committed: a new task
 * and a task the scheduler could start now. Returns the unsubscribe. Writes by other processes are
 * theirs to announce.
 */
export function announceTaskWrites(store: Pick<Store, 'onTaskWritten'>, bus: Pick<WakeupBus, 'notify'>): () => void {
  return store.onTaskWritten((task) => {
    const wakeup = wakeupForTaskWrite(task);
    if (wakeup) bus.notify(wakeup);
  });
}
