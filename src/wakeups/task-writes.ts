import { wakeupForTaskWrite } from '../core/wakeup.js';
import type { Task } from '../core/types.js';
import type { Store } from '../store/store.js';
import type { WakeupBus } from './wakeup-port.js';

/**
 * Tells every host about the tasks this process writes, once each write has committed: a new task
 * and a task the scheduler could start now. Returns the unsubscribe. Writes by other processes are
 * theirs to announce.
 *
 * A transaction may write one task several times — a claim routes a new task and starts it — and the
 * store reports each write after the commit, one after another: only the last of a task's writes is
 * what committed, so only that one is announced. A claim thus wakes no host (every host would tick
 * for a task already running, the claiming one while it prepares the task's workspace).
 */
export function announceTaskWrites(store: Pick<Store, 'onTaskWritten'>, bus: Pick<WakeupBus, 'notify'>): () => void {
  let batch: Map<number, Task> | null = null;
  const announce = () => {
    const written = batch!;
    batch = null;
    for (const task of written.values()) {
      const wakeup = wakeupForTaskWrite(task);
      if (wakeup) bus.notify(wakeup);
    }
  };
  return store.onTaskWritten((task) => {
    if (batch === null) {
      batch = new Map();
      // The store reports a commit's writes synchronously: they are all in by the next microtask.
      queueMicrotask(announce);
    }
    batch.delete(task.id);
    batch.set(task.id, task);
  });
}
