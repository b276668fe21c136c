// The order the board and the paged task reads show a state's tasks in, defined once: the store reads
// a page in this order by index, and the dashboard places a card that moved in the same order.

import { TERMINAL_STATES, type TaskState } from './types.js';

/**
 * `recent`: most recently updated first (done and cancelled: what just finished matters, a year of
 * history does not). `priority`: highest priority first, then oldest first (what runs next).
 */
export type BoardOrder = 'recent' | 'priority';

export function boardOrder(state: TaskState): BoardOrder {
  return TERMINAL_STATES.has(state) ? 'recent' : 'priority';
}

/** Where a page of `state` resumes: the last task shown's sort key (updatedAt or priority) and id. */
export interface TaskCursor {
  key: number;
  id: number;
}

export interface BoardOrderable {
  id: number;
  priority: number;
  updatedAt: number;
}

export function cursorOf(state: TaskState, task: BoardOrderable): TaskCursor {
  return { key: boardOrder(state) === 'recent' ? task.updatedAt : task.priority, id: task.id };
}

/** Negative when `a` comes before `b` in `state`'s column. */
export function compareInColumn(state: TaskState, a: BoardOrderable, b: BoardOrderable): number {
  return boardOrder(state) === 'recent' ? b.updatedAt - a.updatedAt || b.id - a.id : b.priority - a.priority || a.id - b.id;
}

/** Whether `task` comes after `cursor` in `state`'s column (it belongs to a page not read yet). */
export function isAfterCursor(state: TaskState, task: BoardOrderable, cursor: TaskCursor): boolean {
  const at = cursorOf(state, task);
  return boardOrder(state) === 'recent' ? at.key < cursor.key || (at.key === cursor.key && at.id < cursor.id) : at.key < cursor.key || (at.key === cursor.key && at.id > cursor.id);
}

/** The cursor as the API writes it: `key:id`. */
export function formatCursor(cursor: TaskCursor): string {
  return `${cursor.key}:${cursor.id}`;
}

/** A cursor the API was given, or null when it is not one `formatCursor` wrote. */
export function parseCursor(text: string): TaskCursor | null {
  const match = /^(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?):(\d{1,15})$/i.exec(text);
  if (!match) return null;
  const key = Number(match[1]);
  const id = Number(match[2]);
  return Number.isFinite(key) && id > 0 ? { key, id } : null;
}
