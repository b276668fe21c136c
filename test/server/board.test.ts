// The board's endpoints: counts per state and project, a first page per column, more after a cursor.

import { describe, expect, it } from 'vitest';
import { TASK_STATES, type Task, type TaskState } from '../../src/core/types.js';
import { json, useServer } from './harness.js';

const h = useServer();

interface Board {
  counts: Partial<Record<TaskState, number>>;
  projects: Record<string, Partial<Record<TaskState, number>>>;
  agents: string[];
  columns: Partial<Record<TaskState, { tasks: Task[]; next: string | null }>>;
}

async function addTasks(count: number, priority = (i: number) => i % 3): Promise<Task[]> {
  const tasks: Task[] = [];
  for (let i = 0; i < count; i++) {
    const response = await h.call('/tasks', { body: { project: 'app', title: `Task ${i}`, priority: priority(i), ...(i % 2 ? { labels: ['bug'] } : {}) } });
    tasks.push(await json<Task>(response));
  }
  return tasks;
}

describe('GET /board', () => {
  it('answers counts per state and project and the first page of every column', async () => {
    await addTasks(5);
    const board = await json<Board>(await h.call('/board?limit=2'));
    expect(board.counts).toEqual({ new: 5 });
    expect(board.projects).toEqual({ app: { new: 5 } });
    expect(board.columns.new!.tasks.map((t) => [t.priority, t.title])).toEqual([
      [2, 'Task 2'],
      [1, 'Task 1'],
    ]);
    expect(board.columns.new!.next).toMatch(/^1:\d+$/);
    expect(board.columns.done).toEqual({ tasks: [], next: null });
    expect(Object.keys(board.columns)).toEqual([...TASK_STATES]);
  });

  it('narrows to a project, a label or some states; limit 0 answers the counts alone', async () => {
    await addTasks(4);
    expect((await json<Board>(await h.call('/board?project=other'))).counts).toEqual({});
    const bugs = await json<Board>(await h.call('/board?label=bug&state=new,done'));
    expect(bugs.counts).toEqual({ new: 2 });
    expect(Object.keys(bugs.columns)).toEqual(['new', 'done']);
    expect(bugs.columns.new!.tasks.every((t) => t.labels.includes('bug'))).toBe(true);
    const countsOnly = await json<Board>(await h.call('/board?limit=0'));
    expect(countsOnly.counts).toEqual({ new: 4 });
    expect(countsOnly.columns.new).toEqual({ tasks: [], next: null });
  });

  it('pages a column after a cursor to its end', async () => {
    const added = await addTasks(7);
    const seen: number[] = [];
    let next: string | null = (await json<Board>(await h.call('/board?limit=3'))).columns.new!.next;
    seen.push(...(await json<Board>(await h.call('/board?limit=3'))).columns.new!.tasks.map((t) => t.id));
    while (next) {
      const page: { tasks: Task[]; next: string | null } = await json(await h.call(`/board/column?state=new&limit=3&after=${encodeURIComponent(next)}`));
      seen.push(...page.tasks.map((t) => t.id));
      next = page.next;
    }
    expect(seen.sort((a, b) => a - b)).toEqual(added.map((t) => t.id));
  });

  it('answers 400 naming what to fix for a bad state, cursor or limit', async () => {
    for (const [path, message] of [
      ['/board/column?after=1:1', /^state: expected one of new,/],
      ['/board/column?state=new,done', /^state: expected one of/],
      ['/board/column?state=new&after=abc', /^after: expected the "next" of a previous page, got "abc"/],
      ['/board?limit=501', /^limit: expected at most 500/],
      ['/board?state=nope', /^state: unknown value "nope"/],
    ] as const) {
      const response = await h.call(path);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(message);
    }
  });
});
