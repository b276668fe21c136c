// The moves a person makes on a task, as buttons: only those the task's state allows (the lifecycle
// table in the core decides), each posting to the API and saying what happened.

import { useState } from 'preact/hooks';
import { canTransition } from '../../src/core/lifecycle.js';
import { post } from '../api.js';
import { notify } from '../notices.js';
import type { Task } from '../types.js';

export type TaskAction = 'retry' | 'run_now' | 'cancel' | 'unblock' | 'unblock_force' | 'resolve';

const LABELS: Record<TaskAction, string> = {
  retry: 'Retry',
  run_now: 'Run now',
  cancel: 'Cancel',
  unblock: 'Unblock',
  unblock_force: 'Drop dependencies',
  resolve: 'Resolve as done',
};

const DONE: Record<TaskAction, string> = {
  retry: 'queued for another attempt',
  run_now: 'will start at the next tick',
  cancel: 'cancelled',
  unblock: 'unblocked',
  unblock_force: 'unblocked; its unfinished dependencies were dropped',
  resolve: 'resolved as done',
};

/** What can be done to `task` now, most useful first. */
export function actionsFor(task: Task, now: number): TaskAction[] {
  const actions: TaskAction[] = [];
  const waitsOnTasks = task.state === 'blocked' && (task.blockKind === 'dependencies' || task.blockKind === 'children');
  if (canTransition(task.state, 'requeue') && !waitsOnTasks) actions.push('retry');
  if ((task.state === 'new' || task.state === 'routed') && task.nextAttemptAt !== null && task.nextAttemptAt > now) actions.push('run_now');
  if (task.state === 'needs_review') actions.push('resolve');
  if (task.state === 'blocked' && task.blockKind === 'dependencies') actions.push('unblock_force');
  if (task.state === 'blocked' && (task.blockKind === 'agent' || task.blockKind === 'manual')) actions.push('unblock');
  if (canTransition(task.state, 'cancel')) actions.push('cancel');
  return actions;
}

async function perform(task: Task, action: TaskAction): Promise<void> {
  const path = `/tasks/${task.id}`;
  switch (action) {
    case 'retry':
    case 'run_now':
      await post(`${path}/retry`);
      return;
    case 'cancel':
      await post(`${path}/cancel`, { reason: 'cancelled from the dashboard' });
      return;
    case 'unblock':
      await post(`${path}/unblock`);
      return;
    case 'unblock_force':
      await post(`${path}/unblock`, { force: true });
      return;
    case 'resolve':
      await post(`${path}/resolve`, { reason: 'resolved from the dashboard' });
      return;
  }
}

/** Moves that throw work away ask first. */
const CONFIRM: Partial<Record<TaskAction, (task: Task) => string>> = {
  cancel: (task) => `Cancel task #${task.id} "${task.title}"? A running agent is stopped.`,
  unblock_force: (task) => `Drop the unfinished dependencies of task #${task.id} and let it run now?`,
};

export function TaskActions({ task, now, only, onDone }: { task: Task; now: number; only?: TaskAction[]; onDone?: () => void }) {
  const [busy, setBusy] = useState<TaskAction | null>(null);
  const actions = actionsFor(task, now).filter((action) => !only || only.includes(action));
  if (actions.length === 0) return null;

  const run = async (action: TaskAction) => {
    const question = CONFIRM[action]?.(task);
    if (question && !window.confirm(question)) return;
    setBusy(action);
    try {
      await perform(task, action);
      notify(`#${task.id} ${DONE[action]}`);
      onDone?.();
    } catch (error) {
      notify(`#${task.id}: ${(error as Error).message}`, 'error');
    } finally {
      setBusy(null);
    }
  };

  return (
    <div class="actions">
      {actions.map((action, index) => (
        <button
          key={action}
          type="button"
          class={index === 0 && action !== 'cancel' ? 'button button-primary' : 'button'}
          data-action={action}
          disabled={busy !== null}
          onClick={(event) => {
            event.preventDefault();
            event.stopPropagation();
            void run(action);
          }}
        >
          {busy === action ? '…' : LABELS[action]}
        </button>
      ))}
    </div>
  );
}
