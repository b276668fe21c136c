import { Hono } from 'hono';
import type { Context } from 'hono';
import { formatCursor, parseCursor } from '../../core/board-order.js';
import { OrchError } from '../../core/errors.js';
import { TASK_STATES, type Task, type TaskState } from '../../core/types.js';
import type { TaskPage } from '../../store/store.js';
import type { ServerDeps } from '../deps.js';
import { optionalList, optionalWholeNumber } from '../validation.js';

/** Cards per column on the first load and per "show more": a screenful, whatever the store holds. */
export const BOARD_PAGE = 30;
const MAX_PAGE = 500;

/** A column's page as the API writes it: the tasks, and the cursor of the next page (null: the last). */
export interface ColumnPage {
  tasks: Task[];
  next: string | null;
}

/**
 * The board at any size: task counts per state from one grouped query, and per column a page of its
 * most relevant tasks (core/board-order.ts) read by index; more of a column page by page after a cursor.
 */
export function boardRoutes({ orch }: ServerDeps): Hono {
  const app = new Hono();

  app.get('/board', async (c) => {
    const { project, agent, label } = narrowing(c);
    const states = optionalList(c, 'state', TASK_STATES) ?? TASK_STATES;
    const limit = optionalWholeNumber(c, 'limit', 0) ?? BOARD_PAGE;
    if (limit > MAX_PAGE) throw new OrchError('invalid_input', `limit: expected at most ${MAX_PAGE}, got ${limit}`);
    const [rows, agents, pages] = await Promise.all([
      orch.store.countTasksByProjectState({ agent, label }),
      orch.store.countTasksByAgent(),
      Promise.all(states.map((state) => (limit === 0 ? { tasks: [], next: null } : orch.store.pageTasks({ state, project, agent, label, limit })))),
    ]);
    const counts: Partial<Record<TaskState, number>> = {};
    const projects: Record<string, Partial<Record<TaskState, number>>> = {};
    for (const row of rows) {
      (projects[row.project] ??= {})[row.state] = row.count;
      if (project === undefined || row.project === project) counts[row.state] = (counts[row.state] ?? 0) + row.count;
    }
    const columns: Partial<Record<TaskState, ColumnPage>> = {};
    states.forEach((state, i) => (columns[state] = written(pages[i]!)));
    return c.json({ counts, projects, agents: [...new Set(agents.map((row) => row.agent))].sort(), columns });
  });

  app.get('/board/column', async (c) => {
    const state = optionalList(c, 'state', TASK_STATES);
    if (state?.length !== 1) throw new OrchError('invalid_input', `state: expected one of ${TASK_STATES.join(', ')}`);
    const limit = optionalWholeNumber(c, 'limit') ?? BOARD_PAGE;
    if (limit > MAX_PAGE) throw new OrchError('invalid_input', `limit: expected at most ${MAX_PAGE}, got ${limit}`);
    const afterText = c.req.query('after');
    const after = afterText ? parseCursor(afterText) : undefined;
    if (after === null) throw new OrchError('invalid_input', `after: expected the "next" of a previous page, got "${afterText}"`);
    const page = await orch.store.pageTasks({ state: state[0]!, ...narrowing(c), limit, ...(after ? { after } : {}) });
    return c.json(written(page));
  });

  return app;
}

function narrowing(c: Context): { project?: string; agent?: string; label?: string } {
  const value = (name: string) => c.req.query(name) || undefined;
  return { project: value('project'), agent: value('agent'), label: value('label') };
}

function written(page: TaskPage): ColumnPage {
  return { tasks: page.tasks, next: page.next && formatCursor(page.next) };
}
