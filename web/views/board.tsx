// The backlog as columns by state, for one project or all, narrowed by agent and label: each column
// counts its tasks and shows its most relevant ones (open work by priority, finished work newest
// first), more on demand. It follows the event stream, so cards move as the work does. Add a task;
// retry, cancel or unblock from a card.

import { useState } from 'preact/hooks';
import { TASK_STATES } from '../../src/core/types.js';
import { api, post } from '../api.js';
import { useBoard } from '../board-data.js';
import { PullRequestLine } from '../components/pull-request-line.js';
import { TaskActions } from '../components/task-actions.js';
import { ago, duration, STATE_LABELS, usd } from '../format.js';
import { useNow, useResource } from '../hooks.js';
import { notify } from '../notices.js';
import { href, replaceQuery, type Route } from '../router.js';
import type { OrchEvent, Project, Task } from '../types.js';

const affectsProjects = (event: OrchEvent) => event.type.startsWith('project.');

function TaskCard({ task, now, onChange }: { task: Task; now: number; onChange: () => void }) {
  const waiting = task.nextAttemptAt !== null && task.nextAttemptAt > now;
  return (
    <article class="card task-card" data-task-id={task.id} data-state={task.state}>
      <h4 class="task-title">
        <a href={href(`/tasks/${task.id}`)}>{task.title}</a>
      </h4>
      <p class="task-meta">
        <span>#{task.id}</span>
        <span>{task.project}</span>
        {task.agent ? <span class="badge">{task.agent}</span> : null}
        {task.attempts > 0 ? <span title="attempts">×{task.attempts}</span> : null}
        {task.costUsd > 0 ? <span>{usd(task.costUsd)}</span> : null}
      </p>
      {task.labels.length > 0 ? (
        <p class="labels">
          {task.labels.map((label) => (
            <span key={label} class="label">
              {label}
            </span>
          ))}
        </p>
      ) : null}
      {(task.state === 'blocked' || task.state === 'needs_review') && task.blockedReason ? <p class="reason small">{task.blockedReason}</p> : null}
      {task.pullRequest && task.state !== 'done' && task.state !== 'cancelled' ? <PullRequestLine pullRequest={task.pullRequest} /> : null}
      {waiting ? <p class="muted small">next attempt in {duration(task.nextAttemptAt! - now)}</p> : null}
      <p class="muted small">updated {ago(task.updatedAt, now)}</p>
      <TaskActions task={task} now={now} onDone={onChange} />
    </article>
  );
}

function AddTaskForm({ projects, project, onAdded }: { projects: Project[]; project: string | undefined; onAdded: () => void }) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  if (!open) {
    return (
      <button type="button" class="button button-primary" data-action="open-add-task" onClick={() => setOpen(true)}>
        + Add task
      </button>
    );
  }
  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const text = (name: string) => String(form.get(name) ?? '').trim();
    const labels = text('labels').split(',').map((label) => label.trim()).filter(Boolean);
    const priority = text('priority');
    setBusy(true);
    try {
      const task = await post<Task>('/tasks', {
        project: text('project'),
        title: text('title'),
        ...(text('body') ? { body: text('body') } : {}),
        ...(labels.length > 0 ? { labels } : {}),
        ...(priority ? { priority: Number(priority) } : {}),
      });
      notify(`#${task.id} added to ${task.project}`);
      setOpen(false);
      onAdded();
    } catch (error) {
      notify((error as Error).message, 'error');
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card add-task" onSubmit={(event) => void submit(event)} data-form="add-task">
      <div class="form-row">
        <label>
          Project
          <select name="project" required>
            {projects.map((p) => (
              <option key={p.name} value={p.name} selected={p.name === (project ?? projects[0]?.name)}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <label class="grow">
          Title
          <input name="title" required maxLength={300} placeholder="What should be done" autoFocus />
        </label>
      </div>
      <label>
        Details
        <textarea name="body" rows={3} placeholder="Context, acceptance criteria (optional)" />
      </label>
      <div class="form-row">
        <label class="grow">
          Labels
          <input name="labels" placeholder="comma, separated" />
        </label>
        <label>
          Priority
          <input name="priority" type="number" step={1} placeholder="0" />
        </label>
      </div>
      <div class="actions">
        <button type="submit" class="button button-primary" disabled={busy}>
          {busy ? 'Adding…' : 'Add task'}
        </button>
        <button type="button" class="button" onClick={() => setOpen(false)}>
          Close
        </button>
      </div>
    </form>
  );
}

function Filter({ name, value, options, all, onChange }: { name: string; value: string | undefined; options: string[]; all: string; onChange: (value: string | undefined) => void }) {
  return (
    <label class="filter">
      {name}
      <select value={value ?? ''} data-filter={name.toLowerCase()} onChange={(event) => onChange((event.currentTarget as HTMLSelectElement).value || undefined)}>
        <option value="">{all}</option>
        {options.map((option) => (
          <option key={option} value={option}>
            {option}
          </option>
        ))}
      </select>
    </label>
  );
}

export function BoardView({ route }: { route: Route }) {
  const now = useNow(5000);
  const project = route.query.get('project') ?? undefined;
  const agent = route.query.get('agent') ?? undefined;
  const label = route.query.get('label') ?? undefined;
  const { board, error, loadMore, loadingMore, reload } = useBoard({ project, agent, label });
  const projects = useResource('projects', () => api<Project[]>('/projects'), { refreshOn: affectsProjects });

  const loaded = TASK_STATES.flatMap((state) => board?.columns[state]?.tasks ?? []);
  // Labels are offered from the cards loaded: listing every label of a large store would read it all.
  const labels = [...new Set([...loaded.flatMap((task) => task.labels), ...(label ? [label] : [])])].sort();
  const setFilter = (key: string, value: string | undefined) => replaceQuery('/board', { project, agent, label, [key]: value });

  return (
    <section class="view view-wide" data-view="board">
      <header class="view-head">
        <h2>Board</h2>
        <div class="filters">
          <Filter name="Project" value={project} options={(projects.data ?? []).map((p) => p.name)} all="All projects" onChange={(value) => setFilter('project', value)} />
          <Filter name="Agent" value={agent} options={board?.agents ?? (agent ? [agent] : [])} all="Any agent" onChange={(value) => setFilter('agent', value)} />
          <Filter name="Label" value={label} options={labels} all="Any label" onChange={(value) => setFilter('label', value)} />
        </div>
        <AddTaskForm projects={projects.data ?? []} project={project} onAdded={() => undefined} />
      </header>
      {error && !board ? <p class="error">{error}</p> : null}
      <div class="board" data-board>
        {TASK_STATES.map((state) => {
          const column = board?.columns[state] ?? { tasks: [], next: null };
          const count = board?.counts[state] ?? 0;
          const unshown = Math.max(0, count - column.tasks.length);
          return (
            <section key={state} class={`column column-${state}${count === 0 ? ' is-empty' : ''}`} data-column={state} data-count={count} aria-label={STATE_LABELS[state]}>
              <h3 class="column-head">
                {STATE_LABELS[state]} <span class="count">{count.toLocaleString()}</span>
              </h3>
              <div class="column-body">
                {column.tasks.map((task) => (
                  <TaskCard key={task.id} task={task} now={now} onChange={reload} />
                ))}
                {column.next !== null ? (
                  <button type="button" class="button show-more" data-action="show-more" disabled={loadingMore.has(state)} onClick={() => loadMore(state)}>
                    {loadingMore.has(state) ? 'Loading…' : `Show more (${unshown.toLocaleString()} not shown)`}
                  </button>
                ) : null}
              </div>
            </section>
          );
        })}
      </div>
    </section>
  );
}
