// The board's data at any size: counts per state and the first page of each column from `GET /board`,
// more of a column on demand (`GET /board/column` after its cursor), and live changes applied in
// place: the tasks a burst of events names are read by id, once per animation frame at most, and the
// counts moved with them (re-read from the grouped query only when the page cannot know). Nothing reloads the whole board but a change of filter or a
// reconnect after an outage.

import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { moveCounts, placeChanges } from '../src/core/board-order.js';
import { TASK_STATES } from '../src/core/types.js';
import { api } from './api.js';
import { connection } from './connection.js';
import { liveFeed } from './live-feed.js';
import type { Task, TaskState } from './types.js';

export interface Column {
  tasks: Task[];
  /** The cursor of the next page; null when every task of the column is loaded. */
  next: string | null;
}

export interface BoardAnswer {
  counts: Partial<Record<TaskState, number>>;
  projects: Record<string, Partial<Record<TaskState, number>>>;
  agents: string[];
  columns: Partial<Record<TaskState, Column>>;
}

export interface BoardFilter {
  project?: string | undefined;
  agent?: string | undefined;
  label?: string | undefined;
}

export interface BoardData {
  board: BoardAnswer | null;
  error: string | null;
  /** Reads the next page of a column and appends it. */
  loadMore: (state: TaskState) => void;
  loadingMore: ReadonlySet<TaskState>;
  reload: () => void;
}

function query(filter: BoardFilter, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams(extra);
  for (const key of ['project', 'agent', 'label'] as const) if (filter[key]) params.set(key, filter[key]);
  return params.toString();
}

const matches = (task: Task, filter: BoardFilter) =>
  (!filter.project || task.project === filter.project) && (!filter.agent || task.agent === filter.agent) && (!filter.label || task.labels.includes(filter.label));

/** How long a live read may take before the board gives up on it and reads again. */
const READ_LIMIT_MS = 10_000;

/** What the page knows of a task an event named: new (not counted yet), changed, or not known (a count read raced it). */
type Change = 'created' | 'changed' | 'unknown';

/** The state each loaded card is shown in. */
function loadedStates(board: BoardAnswer): Map<number, TaskState> {
  const where = new Map<number, TaskState>();
  for (const state of TASK_STATES) for (const task of board.columns[state]?.tasks ?? []) where.set(task.id, state);
  return where;
}

export function useBoard(filter: BoardFilter): BoardData {
  const key = query(filter);
  const [board, setBoard] = useState<BoardAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState<ReadonlySet<TaskState>>(new Set());
  const boardRef = useRef<BoardAnswer | null>(null);
  boardRef.current = board;
  const generation = useRef(0);

  const reload = useCallback(() => {
    const mine = ++generation.current;
    api<BoardAnswer>(`/board?${key}`).then(
      (answer) => {
        if (mine !== generation.current) return;
        setBoard(answer);
        setError(null);
      },
      (failure: Error) => mine === generation.current && setError(failure.message),
    );
  }, [key]);

  useEffect(() => {
    setBoard(null);
    setError(null);
    reload();
  }, [reload]);

  // Live changes: the ids named by task events pile up; once per frame, if no read is under way, the
  // tasks they name are read by id and applied. The counts move with them when the page knows where each
  // was (a new task, or one whose card is loaded); else they are re-read from the grouped query. A
  // burst of any size costs one read.
  useEffect(() => {
    const pending = new Map<number, Change>();
    let frame: number | null = null;
    let reading = false;
    let readingCounts = false;
    const flush = () => {
      frame = null;
      const current = boardRef.current;
      if (reading || pending.size === 0 || current === null) return;
      const batch = [...pending].slice(0, 500);
      for (const [id] of batch) pending.delete(id);
      const where = loadedStates(current);
      const needCounts = batch.some(([id, change]) => change === 'unknown' || (change === 'changed' && !where.has(id)));
      reading = true;
      readingCounts = needCounts;
      const mine = generation.current;
      const ids = batch.map(([id]) => id);
      const reads = Promise.all([api<Task[]>(`/tasks?ids=${ids.join(',')}`), needCounts ? api<BoardAnswer>(`/board?${query(filter, { limit: '0' })}`) : null]);
      // A read that never answers must not stop the board following: past the limit it counts as failed
      // (and its late answer is ignored: the race is settled).
      let timer: ReturnType<typeof setTimeout> | undefined;
      const gaveUp = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no answer')), READ_LIMIT_MS)));
      Promise.race([reads, gaveUp])
        .then(([tasks, answer]) => {
          if (mine !== generation.current) return;
          const changes = new Map(batch);
          const shown = (task: Task) => matches(task, filter);
          setBoard((board) => {
            if (!board) return board;
            const where = loadedStates(board);
            const counts = answer ? answer.counts : moveCounts(board.counts, tasks, (task) => (changes.get(task.id) === 'created' ? undefined : where.get(task.id)), shown);
            return { ...board, counts, columns: placeChanges(board.columns, tasks, shown) };
          });
        })
        .catch(() => batch.forEach(([id]) => pending.set(id, 'unknown')))
        .finally(() => {
          clearTimeout(timer);
          reading = readingCounts = false;
          if (pending.size > 0) frame ??= requestAnimationFrame(flush);
        });
    };
    const unsubscribeFeed = liveFeed().subscribe((event) => {
      if (!event.type.startsWith('task.') || event.taskId === null) return;
      // A counts read under way may or may not hold this change: the next read of the counts settles it.
      const change: Change = readingCounts ? 'unknown' : event.type === 'task.created' ? 'created' : 'changed';
      const before = pending.get(event.taskId);
      pending.set(event.taskId, before === 'unknown' || change === 'unknown' ? 'unknown' : before === 'created' ? 'created' : change);
      frame ??= requestAnimationFrame(flush);
    });
    let epoch = connection.get().epoch;
    const unsubscribeConnection = connection.subscribe((state) => {
      if (state.epoch === epoch) return;
      epoch = state.epoch;
      reload(); // back after an outage: what changed meanwhile is not known
    });
    // Ages and figures no event announces (a retry's wait running out) stay fresh, slowly.
    const interval = setInterval(reload, 60_000);
    return () => {
      unsubscribeFeed();
      unsubscribeConnection();
      clearInterval(interval);
      if (frame !== null) cancelAnimationFrame(frame);
    };
  }, [key, reload]); // `key` stands for the filter's fields

  const loadMore = useCallback(
    (state: TaskState) => {
      const column = boardRef.current?.columns[state];
      if (!column?.next) return;
      const after = column.next;
      const mine = generation.current;
      setLoadingMore((current) => new Set([...current, state]));
      api<Column>(`/board/column?${query(filter, { state, after })}`)
        .then((page) => {
          if (mine !== generation.current) return;
          setBoard((current) => {
            const loaded = current?.columns[state];
            if (!current || !loaded || loaded.next !== after) return current;
            const have = new Set(loaded.tasks.map((task) => task.id));
            return { ...current, columns: { ...current.columns, [state]: { tasks: [...loaded.tasks, ...page.tasks.filter((task) => !have.has(task.id))], next: page.next } } };
          });
        })
        .catch((failure: Error) => setError(failure.message))
        .finally(() =>
          setLoadingMore((current) => {
            const rest = new Set(current);
            rest.delete(state);
            return rest;
          }),
        );
    },
    [key],
  );

  return { board, error, loadMore, loadingMore, reload };
}
