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

/** A card on the board: what places it. */
export interface BoardCard extends BoardOrderable {
  state: TaskState;
}

/** A column as loaded: its cards in order, and the cursor (as written) of the page not loaded yet, or null. */
export interface LoadedColumn<T extends BoardCard> {
  tasks: T[];
  next: string | null;
}

/**
 * The columns with `changed` applied: each task out of wherever it was, and into its state's column in
 * order when it belongs there (`shown`: it matches the board's filter) and falls within the cards
 * loaded (a task after the cursor will come with its page). Untouched columns are returned as they were.
 */
export function placeChanges<T extends BoardCard>(columns: Partial<Record<TaskState, LoadedColumn<T>>>, changed: readonly T[], shown: (task: T) => boolean): Partial<Record<TaskState, LoadedColumn<T>>> {
  const ids = new Set(changed.map((task) => task.id));
  const placed: Partial<Record<TaskState, LoadedColumn<T>>> = {};
  for (const [name, column] of Object.entries(columns) as [TaskState, LoadedColumn<T>][]) {
    const kept = column.tasks.some((task) => ids.has(task.id)) ? column.tasks.filter((task) => !ids.has(task.id)) : column.tasks;
    const cursor = column.next === null ? null : parseCursor(column.next);
    const arriving = changed.filter((task) => task.state === name && shown(task) && (cursor === null || !isAfterCursor(name, task, cursor)));
    placed[name] = arriving.length === 0 && kept === column.tasks ? column : { ...column, tasks: [...kept, ...arriving].sort((a, b) => compareInColumn(name, a, b)) };
  }
  return placed;
}

/**
 * The counts with each changed task moved: out of the state its card was shown in (`wasIn`; none for a
 * task new to the store, or one the page never had — the caller re-reads the counts then), into its own
 * when it is shown.
 */
export function moveCounts<T extends BoardCard>(counts: Partial<Record<TaskState, number>>, changed: readonly T[], wasIn: (task: T) => TaskState | undefined, shown: (task: T) => boolean): Partial<Record<TaskState, number>> {
  const moved = { ...counts };
  for (const task of changed) {
    const was = wasIn(task);
    if (was !== undefined) moved[was] = Math.max(0, (moved[was] ?? 0) - 1);
    if (shown(task)) moved[task.state] = (moved[task.state] ?? 0) + 1;
  }
  return moved;
}
