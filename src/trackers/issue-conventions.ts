// What Orch reads from and writes to issues the same way whatever the tracker: the `role:<role>` label,
// the name people see for each task state, and the status comment, which starts with a marker so Orch
// finds its own comment again after a restart and edits it instead of adding another.

import { ROLES, type Role, type TaskState } from '../core/types.js';
import type { StatusReport } from './tracker.js';

/** Every status comment starts with this line; it is how Orch finds its own comment again. */
export const STATUS_MARKER = '<!-- orch:status -->';

/** Each task state as people read it (GitHub's `orch:<name>` labels, the status comment's heading). */
const STATUS_NAMES: Record<TaskState, string> = {
  new: 'queued',
  routed: 'queued',
  running: 'running',
  judging: 'judging',
  merging: 'merging',
  in_review: 'in-review',
  done: 'done',
  blocked: 'blocked',
  needs_review: 'needs-review',
  cancelled: 'cancelled',
};

export function statusName(state: TaskState): string {
  return STATUS_NAMES[state];
}

/** `role:<role>` → that role; unknown roles are ignored rather than guessed at. */
export function roleFromLabels(labels: string[]): Role | null {
  for (const label of labels) {
    const match = /^role:\s*(\S+)$/i.exec(label);
    const role = match?.[1]?.toLowerCase();
    if (role && (ROLES as readonly string[]).includes(role)) return role as Role;
  }
  return null;
}

/**
 * The status comment's body, opening with `marker` (the issue's own by default); rendered the same for
 * the same report, so an unchanged status is not rewritten.
 */
export function statusComment(status: StatusReport, marker = STATUS_MARKER): string {
  const facts = [
    status.agent ? `agent \`${status.agent}\`` : null,
    status.complexity ? `complexity \`${status.complexity}\`` : null,
    `${status.attempts} attempt${status.attempts === 1 ? '' : 's'}`,
    `$${status.costUsd.toFixed(2)}`,
  ].filter((fact): fact is string => fact !== null);
  const lines = [marker, `**Orch: ${statusName(status.state)}** · ${facts.join(' · ')}`, ''];
  if (status.summary.trim()) lines.push(status.summary.trim(), '');
  if (status.pullRequestUrl) lines.push(`Pull request: ${status.pullRequestUrl}`, '');
  return `${lines.join('\n').trimEnd()}\n`;
}

/** Orch's own status comment on an issue (not its reply to a mention, whose marker names the comment). */
export function isStatusComment(body: string | undefined): boolean {
  return (body ?? '').trimStart().startsWith(STATUS_MARKER);
}
