// The board's reads: a page of a state's tasks in the board's order from a cursor on, and the tasks
// counted per project and state in one grouped query, the same on both stores.

import { describe, expect, it } from 'vitest';
import { compareInColumn, type TaskCursor } from '../../src/core/board-order.js';
import type { Task, TaskState } from '../../src/core/types.js';
import type { Store, TaskPageRequest } from '../../src/store/store.js';
import { T0, addProject, storeKinds, useTempStore } from './fixtures.js';

const edit = { type: 'task.edited', data: {} };

/** Every page of a request, read `limit` at a time by following the cursors. */
async function readAllPages(store: Store, request: Omit<TaskPageRequest, 'after'>): Promise<{ pages: Task[][]; cursors: (TaskCursor | null)[] }> {
  const pages: Task[][] = [];
  const cursors: (TaskCursor | null)[] = [];
  let after: TaskCursor | undefined;
  for (;;) {
    const page = await store.pageTasks({ ...request, ...(after ? { after } : {}) });
    pages.push(page.tasks);
    cursors.push(page.next);
    if (!page.next) return { pages, cursors };
    after = page.next;
  }
}

describe.each(storeKinds)('on %s', (kind) => {
  const db = useTempStore(kind);

  /** Two projects' tasks in open and finished states, priorities with ties, updates out of id order. */
  async function seedBoard(): Promise<Task[]> {
    const { store } = db;
    await addProject(store, 'web');
    await addProject(store, 'api');
    const tasks: Task[] = [];
    for (let i = 0; i < 24; i++) {
      const state: TaskState = i % 3 === 0 ? 'done' : i % 3 === 1 ? 'new' : 'cancelled';
      const created = await store.createTask({ project: i % 2 ? 'web' : 'api', title: `Task ${i}`, state, priority: i % 4 === 0 ? 0 : (i % 4) - 1.5, labels: i % 5 === 0 ? ['bug', 'ui'] : ['chore'] }, T0 + i);
      // Updated in an order unlike the ids' (with ties), as work finishes out of order.
      const updated = await store.updateTask(created.id, {}, { agent: i % 2 ? 'claude' : 'codex' }, T0 + 1000 + ((i * 7) % 10), edit);
      tasks.push(updated);
    }
    return tasks;
  }

  it('pages each state in the board order, following cursors, with no task twice or missed', async () => {
    const all = await seedBoard();
    for (const state of ['new', 'done', 'cancelled'] as const) {
      for (const project of [undefined, 'web']) {
        const expected = all.filter((t) => t.state === state && (!project || t.project === project)).sort((a, b) => compareInColumn(state, a, b));
        const { pages, cursors } = await readAllPages(db.store, { state, ...(project ? { project } : {}), limit: 3 });
        expect(pages.flat().map((t) => t.id)).toEqual(expected.map((t) => t.id));
        expect(pages.slice(0, -1).every((page) => page.length === 3)).toBe(true);
        expect(cursors.at(-1)).toBeNull();
      }
    }
    const first = await db.store.pageTasks({ state: 'new', limit: 2 });
    expect(first.tasks[0]).toEqual(await db.store.getTask(first.tasks[0]!.id));
  });

  it('narrows a page to an agent or a label', async () => {
    const all = await seedBoard();
    const byAgent = await readAllPages(db.store, { state: 'done', agent: 'claude', limit: 2 });
    expect(byAgent.pages.flat().map((t) => t.id)).toEqual(all.filter((t) => t.state === 'done' && t.agent === 'claude').sort((a, b) => compareInColumn('done', a, b)).map((t) => t.id));
    const byLabel = await readAllPages(db.store, { state: 'new', label: 'bug', limit: 1 });
    expect(byLabel.pages.flat().map((t) => t.id)).toEqual(all.filter((t) => t.state === 'new' && t.labels.includes('bug')).sort((a, b) => compareInColumn('new', a, b)).map((t) => t.id));
    expect((await db.store.pageTasks({ state: 'new', label: 'bu', limit: 10 })).tasks).toEqual([]);
    expect((await db.store.pageTasks({ state: 'blocked', limit: 10 })).tasks).toEqual([]);
    const listed = await db.store.listTasks({ states: ['new', 'done'], label: 'bug', limit: 2 });
    expect(listed.map((t) => t.id)).toEqual(all.filter((t) => t.state !== 'cancelled' && t.labels.includes('bug')).slice(0, 2).map((t) => t.id));
  });

  it('counts tasks per project and state in one query, narrowed by agent or label', async () => {
    const all = await seedBoard();
    const tally = (tasks: Task[]) => {
      const counts = new Map<string, number>();
      for (const t of tasks) counts.set(`${t.project}/${t.state}`, (counts.get(`${t.project}/${t.state}`) ?? 0) + 1);
      return Object.fromEntries([...counts].sort());
    };
    const asMap = (rows: { project: string; state: string; count: number }[]) => Object.fromEntries(rows.map((r) => [`${r.project}/${r.state}`, r.count]).sort());
    expect(asMap(await db.store.countTasksByProjectState())).toEqual(tally(all));
    expect(asMap(await db.store.countTasksByProjectState({ agent: 'codex' }))).toEqual(tally(all.filter((t) => t.agent === 'codex')));
    expect(asMap(await db.store.countTasksByProjectState({ label: 'ui' }))).toEqual(tally(all.filter((t) => t.labels.includes('ui'))));
    expect(await db.store.countTasksByProjectState({ agent: 'nobody' })).toEqual([]);
  });
});
