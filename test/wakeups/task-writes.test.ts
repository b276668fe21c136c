import { describe, expect, it } from 'vitest';
import type { Wakeup } from '../../src/core/wakeup.js';
import { announceTaskWrites } from '../../src/wakeups/task-writes.js';
import { T0, addProject, createTask, useTempStore } from '../store/fixtures.js';

// The bus stands in for PostgreSQL's NOTIFY (postgres-wakeups.test.ts covers the real one): what
// matters here is which committed writes become wake-ups.
describe('announceTaskWrites', () => {
  const ctx = useTempStore('sqlite');
  const edited = { type: 'task.edited' };

  it('announces a task by its last write of a transaction: a claim that routes and starts a new task wakes nobody', async () => {
    const { store } = ctx;
    await addProject(store);
    const sent: Wakeup[] = [];
    const stop = announceTaskWrites(store, { notify: (wakeup) => sent.push(wakeup) });
    const task = await createTask(store);
    const other = await createTask(store);
    expect(sent).toEqual([
      { kind: 'task_added', taskId: task.id, project: 'web' },
      { kind: 'task_added', taskId: other.id, project: 'web' },
    ]);

    sent.length = 0;
    await store.transaction(async (tx) => {
      await tx.updateTask(task.id, { expectedVersion: 1 }, { state: 'routed' }, T0 + 1, edited);
      await tx.updateTask(task.id, { expectedVersion: 2 }, { state: 'running' }, T0 + 1, edited);
      await tx.updateTask(other.id, { expectedVersion: 1 }, { state: 'routed' }, T0 + 1, edited);
    });
    expect(sent).toEqual([{ kind: 'task_ready', taskId: other.id, project: 'web' }]);
    stop();
  });
});
