import { DISPATCHABLE_STATES, type Task } from './types.js';

/**
 * What a wake-up tells the daemons of every host: something happened that may let work start now,
 * so they tick at once instead of on their next interval. A wake-up is a hint, never a fact to act
 * on: each daemon reads the store on the tick it asks for.
 */
export const WAKEUP_KINDS = [
  /** A task was created. */
  'task_added',
  /** A task was written in a state the scheduler starts from (a retry, a routed task). */
  'task_ready',
  /** A run ended: its slot, and the project's share of the global limits, are free. */
  'slot_freed',
  /** The listener was away (the database restarted): what it missed meanwhile is unknown. */
  'reconnected',
  /** Events were stored: live views (the SSE stream) read what is new. Not a reason to tick. */
  'events_appended',
] as const;
export type WakeupKind = (typeof WAKEUP_KINDS)[number];

export interface Wakeup {
  kind: WakeupKind;
  taskId?: number;
  project?: string;
  /** The bus that sent it (`WakeupBus.origin`): a process can tell its own wake-ups from others'. */
  origin?: string;
}

/** The NOTIFY payload: small JSON, well under PostgreSQL's 8000-byte limit. */
export function encodeWakeup(wakeup: Wakeup): string {
  return JSON.stringify(wakeup);
}

/** Reads a payload; anything unreadable (another version, a person's NOTIFY) is still a wake-up. */
export function decodeWakeup(payload: string | undefined): Wakeup {
  try {
    const value = JSON.parse(payload ?? '') as Partial<Wakeup>;
    const kind = (WAKEUP_KINDS as readonly string[]).includes(value.kind ?? '') ? (value.kind as WakeupKind) : 'task_ready';
    return {
      kind,
      ...(typeof value.taskId === 'number' ? { taskId: value.taskId } : {}),
      ...(typeof value.project === 'string' ? { project: value.project } : {}),
      ...(typeof value.origin === 'string' ? { origin: value.origin } : {}),
    };
  } catch {
    return { kind: 'task_ready' };
  }
}

/** Whether a wake-up may let work start: all but `events_appended`, which is for live views. */
export function wakesScheduler(wakeup: Wakeup): boolean {
  return wakeup.kind !== 'events_appended';
}

/** The wake-up a committed task write deserves: a new task, or one the scheduler could start now; null otherwise. */
export function wakeupForTaskWrite(task: Pick<Task, 'id' | 'project' | 'state' | 'version'>): Wakeup | null {
  if (task.version === 1) return { kind: 'task_added', taskId: task.id, project: task.project };
  if (DISPATCHABLE_STATES.has(task.state)) return { kind: 'task_ready', taskId: task.id, project: task.project };
  return null;
}
