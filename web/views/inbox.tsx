// Everything waiting for a person: agents' permission requests and questions, tasks that need review
// and tasks an agent or a person blocked, each with its reason and the action that moves it on.

import { api } from '../api.js';
import { ApprovalRequests } from '../components/approval-requests.js';
import { TaskActions } from '../components/task-actions.js';
import { ago, STATE_LABELS, usd } from '../format.js';
import { useNow, useResource } from '../hooks.js';
import { href, type Route } from '../router.js';
import type { OrchEvent, Task } from '../types.js';

const affectsInbox = (event: OrchEvent) => event.type.startsWith('task.');

/** Blocked tasks that only a person can free; those waiting on other tasks clear by themselves. */
export const waitsForPerson = (task: Task) => task.state === 'needs_review' || (task.state === 'blocked' && (task.blockKind === 'agent' || task.blockKind === 'manual'));

export function InboxView({ route }: { route: Route }) {
  const now = useNow(10_000);
  const project = route.query.get('project') ?? undefined;
  const tasks = useResource(
    `inbox:${project ?? ''}`,
    () => api<Task[]>(`/tasks?state=needs_review,blocked${project ? `&project=${encodeURIComponent(project)}` : ''}`),
    { refreshOn: affectsInbox, intervalMs: 60_000 },
  );
  const waiting = (tasks.data ?? []).filter(waitsForPerson).sort((a, b) => a.updatedAt - b.updatedAt);

  return (
    <section class="view" data-view="inbox">
      <header class="view-head">
        <h2>Needs review</h2>
        <p class="muted">{project ? `${project} · ` : ''}{tasks.data ? `${waiting.length} waiting for a person, oldest first` : 'Loading…'}</p>
      </header>
      <ApprovalRequests project={project} now={now} />
      {tasks.error && !tasks.data ? <p class="error">{tasks.error}</p> : null}
      {tasks.data && waiting.length === 0 ? <p class="empty">Nothing waits for you.</p> : null}
      <ul class="inbox">
        {waiting.map((task) => (
          <li key={task.id} class="card inbox-item" data-task-id={task.id} data-state={task.state}>
            <div class="inbox-main">
              <h3 class="task-title">
                <a href={href(`/tasks/${task.id}`)}>
                  <span class="muted">#{task.id}</span> {task.title}
                </a>
              </h3>
              <p class="task-meta">
                <span class={`badge state-${task.state}`}>{STATE_LABELS[task.state]}</span>
                <span>{task.project}</span>
                <span>{task.attempts} attempts</span>
                <span>{usd(task.costUsd)}</span>
                <span>since {ago(task.updatedAt, now)}</span>
              </p>
              <p class="reason">{task.blockedReason ?? 'no reason was recorded'}</p>
            </div>
            <TaskActions task={task} now={now} onDone={tasks.reload} />
          </li>
        ))}
      </ul>
    </section>
  );
}
