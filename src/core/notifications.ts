// Which of Orch's events a person hears about, and as what. A notification kind names something a
// person may act on (an approval waiting, a task needing review, a paused project); the events that
// stand for it are named here once, so the notifier reads only those from the store.

import { commandOf } from './approvals.js';
import { TRANSITIONS } from './lifecycle.js';
import type { EpochMs, OrchEvent } from './types.js';

export const NOTIFICATION_KINDS = ['approval_waiting', 'question', 'needs_review', 'project_paused', 'budget_reached', 'daily_digest'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];
/** The kinds an event raises; the daily digest is raised by the clock instead. */
export type EventNotificationKind = Exclude<NotificationKind, 'daily_digest'>;

/** One thing worth telling, read from one event. */
export interface Notice {
  kind: EventNotificationKind;
  /** Notices with the same key are one thing told once (a task escalated twice in a burst). */
  key: string;
  eventId: number;
  at: EpochMs;
  project: string | null;
  taskId: number | null;
  /** The event's own words (a reason, a tool, a question): untrusted text, escaped when rendered. */
  detail: string;
}

/** Event written by the approvals feature when an agent waits on a person (a permission or a question). */
export const APPROVAL_REQUESTED = 'approval.requested';
/** Event a budget check may write when a project's daily budget is spent. */
export const BUDGET_REACHED = 'budget.reached';

/** The task transitions that leave a task needing review, as their event types (`task.escalate`). */
const NEEDS_REVIEW_EVENTS = Object.entries(TRANSITIONS)
  .filter(([, transition]) => transition.to === 'needs_review')
  .map(([name]) => `task.${name}`);

/** Every event type that may raise a notice: the notifier's read filter. */
export const NOTIFYING_EVENT_TYPES: readonly string[] = [...NEEDS_REVIEW_EVENTS, 'project.paused', 'run.ended', BUDGET_REACHED, APPROVAL_REQUESTED];

const text = (value: unknown): string => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '');
const integerOrNull = (value: unknown): number | null => (typeof value === 'number' && Number.isInteger(value) ? value : null);

/** The notice an event raises, or null when it raises none. */
export function noticeFromEvent(event: OrchEvent): Notice | null {
  const base = { eventId: event.id, at: event.at, project: event.project, taskId: event.taskId };
  const data = event.data;
  if (NEEDS_REVIEW_EVENTS.includes(event.type) && data.to === 'needs_review') {
    if (event.taskId === null) return null;
    return { ...base, kind: 'needs_review', key: `needs_review:${event.taskId}`, detail: text(data.reason) };
  }
  switch (event.type) {
    case 'project.paused':
      if (event.project === null) return null;
      return { ...base, kind: 'project_paused', key: `project_paused:${event.project}`, detail: text(data.reason) };
    case 'run.ended':
      if (data.outcome !== 'budget_exceeded') return null;
      return { ...base, kind: 'budget_reached', key: `budget_reached:task:${event.taskId ?? event.runId ?? event.id}`, detail: text(data.reason) };
    case BUDGET_REACHED:
      return { ...base, kind: 'budget_reached', key: `budget_reached:${event.project ?? ''}:${text(data.scope)}`, detail: text(data.reason) || text(data.detail) };
    case APPROVAL_REQUESTED: {
      // Decided as it was asked (by a rule or the approver): nobody is waiting for a person.
      if (typeof data.state === 'string' && data.state !== 'pending') return null;
      const id = text(data.approval) || text(data.id) || String(event.id);
      const project = event.project ?? (text(data.project) || null);
      const taskId = event.taskId ?? integerOrNull(data.taskId);
      if (data.kind === 'question') return { ...base, project, taskId, kind: 'question', key: `approval:${id}`, detail: text(data.question) };
      const tool = [text(data.tool), text(data.command) || (commandOf(data.input) ?? '')].filter((part) => part !== '').join(': ');
      return { ...base, project, taskId, kind: 'approval_waiting', key: `approval:${id}`, detail: tool };
    }
    default:
      return null;
  }
}

/** What one channel wants to hear: of which projects (null: all) and which kinds. */
export interface NoticeFilter {
  projects: readonly string[] | null;
  events: readonly NotificationKind[];
}

export function wants(filter: NoticeFilter, notice: Pick<Notice, 'kind' | 'project'>): boolean {
  if (!filter.events.includes(notice.kind)) return false;
  if (filter.projects === null) return true;
  return notice.project !== null && filter.projects.includes(notice.project);
}
