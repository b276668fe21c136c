// One task: every attempt with its outcome, time and cost; the agent's output as it happens; the
// judge's verdict; and the branch's diff against its base.

import { useCallback, useEffect, useState } from 'preact/hooks';
import { endedInSuccess, RUN_END_REASONS } from '../../src/core/end-reasons.js';
import { api } from '../api.js';
import { AgentOutput } from '../components/agent-output.js';
import { DiffView } from '../components/diff-view.js';
import { PullRequestLine } from '../components/pull-request-line.js';
import { TaskActions } from '../components/task-actions.js';
import { dateTime, duration, STATE_LABELS, usd } from '../format.js';
import { useNow, useResource } from '../hooks.js';
import { LiveFeed } from '../live-feed.js';
import { href } from '../router.js';
import type { OrchEvent, Run, TaskDetail, TaskDiff, VerdictEventData } from '../types.js';

/** The most events one page keeps: a very long run shows its latest output. */
const MAX_EVENTS = 5000;
/** Agent output, hundreds a second from a busy agent: shown as it comes, never a reason to re-read the task. */
const AGENT_LINES = new Set(['agent.assistant_text', 'agent.tool_call', 'agent.tool_result', 'agent.unparsed']);
const DIFF_CHANGES = new Set(['workspace.committed', 'judge.verdict', 'merge.done', 'run.ended', 'run.failed', 'task.finish', 'workspace.removed']);

/** The task's whole event log, replayed from the start and then followed live. */
function useTaskEvents(taskId: number): OrchEvent[] {
  const [events, setEvents] = useState<OrchEvent[]>([]);
  useEffect(() => {
    setEvents([]);
    let pending: OrchEvent[] = [];
    let frame: number | null = null;
    // A replay brings thousands of events at once: they are drawn once per frame, not one by one.
    const flush = () => {
      frame = null;
      const batch = pending;
      pending = [];
      setEvents((current) => {
        const seen = new Set(current.map((event) => event.id));
        const merged = [...current, ...batch.filter((event) => !seen.has(event.id))];
        return merged.length > MAX_EVENTS ? merged.slice(-MAX_EVENTS) : merged;
      });
    };
    const feed = new LiveFeed({ task: String(taskId) }, 0, false);
    const unsubscribe = feed.subscribe((event) => {
      pending.push(event);
      frame ??= requestAnimationFrame(flush);
    });
    return () => {
      unsubscribe();
      feed.close();
      if (frame !== null) cancelAnimationFrame(frame);
    };
  }, [taskId]);
  return events;
}

function runReason(run: Run): string | null {
  const result = run.result as { reason?: unknown; failure?: unknown } | null;
  const reason = result?.failure ?? result?.reason;
  return typeof reason === 'string' && reason !== '' ? reason : null;
}

function Attempts({ runs }: { runs: Run[] }) {
  // Its own clock: a running attempt's duration ticks without redrawing the (long) agent output.
  const now = useNow(1000);
  if (runs.length === 0) return <p class="empty">No attempt yet.</p>;
  return (
    <div class="table-scroll">
      <table class="table" data-runs>
        <thead>
          <tr>
            <th>Attempt</th>
            <th>Agent</th>
            <th>Started</th>
            <th>Duration</th>
            <th>Outcome</th>
            <th class="num">Cost</th>
            <th class="num">Tokens in / out</th>
            <th>Why</th>
          </tr>
        </thead>
        <tbody>
          {[...runs].reverse().map((run) => (
            <tr key={run.id} data-run-id={run.id}>
              <td>
                {run.attempt} <span class="muted small">#{run.id}</span>
              </td>
              <td>
                {run.agent}
                {run.model ? <span class="muted small"> {run.model}</span> : null}
              </td>
              <td>{dateTime(run.startedAt)}</td>
              <td>{duration((run.endedAt ?? now) - run.startedAt)}</td>
              <td>
                <span class={`badge outcome-${run.outcome ?? 'running'}`} data-outcome={run.outcome ?? 'running'}>
                  {run.outcome ?? 'running'}
                </span>
                {run.endReason ? <span class={`badge end-${RUN_END_REASONS[run.endReason]}`} data-end-reason={run.endReason}>{run.endReason.replace(/_/g, ' ')}</span> : null}
              </td>
              <td class="num">{usd(run.costUsd)}</td>
              <td class="num">
                {run.tokensIn.toLocaleString()} / {run.tokensOut.toLocaleString()}
              </td>
              <td class={`small ${endedInSuccess(run.endReason) ? 'muted' : 'reason'}`}>{runReason(run) ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Verdict({ event }: { event: OrchEvent | undefined }) {
  const [markdown, setMarkdown] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    setMarkdown(null);
    setProblem(null);
  }, [event?.id]);
  if (!event) return <p class="empty">Not judged yet: the judge runs the tests, lint, scope rules and review once an agent finishes.</p>;
  const verdict = event.data as unknown as VerdictEventData;
  const read = () => {
    api<string>(`/runs/${event.runId}/verdict`, { text: true }).then(setMarkdown, (error: Error) => setProblem(error.message));
  };
  return (
    <div class="verdict" data-verdict={verdict.passed ? 'passed' : 'failed'}>
      <p>
        <span class={`badge ${verdict.passed ? 'outcome-succeeded' : 'outcome-failed'}`}>{verdict.passed ? 'passed' : 'failed'}</span> {verdict.summary}
        <span class="muted small"> · run #{event.runId}</span>
      </p>
      <ul class="checks">
        {verdict.checks.map((check) => (
          <li key={check.name} class={check.skipped ? 'check-skipped' : check.passed ? 'check-passed' : 'check-failed'}>
            <span class="check-mark" aria-hidden="true">
              {check.skipped ? '–' : check.passed ? '✓' : '✗'}
            </span>
            <strong>{check.name}</strong> <span class="muted">{check.skipped ? 'skipped' : check.detail}</span>
          </li>
        ))}
      </ul>
      {markdown === null ? (
        <button type="button" class="button button-quiet" onClick={read}>
          Read verdict.md
        </button>
      ) : (
        <pre class="verdict-md">{markdown}</pre>
      )}
      {problem ? <p class="error">{problem}</p> : null}
    </div>
  );
}

function Diff({ diff }: { diff: TaskDiff | null }) {
  if (!diff) return <p class="muted">Loading…</p>;
  const where =
    diff.source === 'branch' ? `branch ${diff.branch} against ${diff.base}` : diff.source === 'saved' ? `as judged in run #${diff.runId} (the branch was merged or removed)` : null;
  return (
    <>
      {where ? <p class="muted small">{where}</p> : null}
      {diff.source === 'none' ? <p class="empty">No change yet: the branch appears once an agent has worked on it.</p> : <DiffView diff={diff.diff} />}
      {diff.truncated ? <p class="muted small">The diff is long: only its first megabyte is shown.</p> : null}
    </>
  );
}

export function TaskDetailView({ taskId }: { taskId: number }) {
  // The agent's lines are drawn from the event log itself: only Orch's steps change the task or its runs.
  const mine = useCallback((event: OrchEvent) => event.taskId === taskId && !AGENT_LINES.has(event.type), [taskId]);
  const diffChanged = useCallback((event: OrchEvent) => event.taskId === taskId && DIFF_CHANGES.has(event.type), [taskId]);
  const detail = useResource(`task:${taskId}`, () => api<TaskDetail>(`/tasks/${taskId}`), { refreshOn: mine });
  const diff = useResource(`diff:${taskId}`, () => api<TaskDiff>(`/tasks/${taskId}/diff`), { refreshOn: diffChanged });
  const events = useTaskEvents(taskId);

  if (detail.error && !detail.data) {
    return (
      <section class="view" data-view="task">
        <p class="error">{detail.error}</p>
        <a href={href('/board')}>← Board</a>
      </section>
    );
  }
  if (!detail.data) return <section class="view" data-view="task"><p class="muted">Loading…</p></section>;
  const { task, runs } = detail.data;
  const live = runs.some((run) => run.endedAt === null);
  const verdict = [...events].reverse().find((event) => event.type === 'judge.verdict');

  return (
    <section class="view" data-view="task" data-task-id={task.id}>
      <p class="crumbs">
        <a href={href('/board', { project: task.project })}>← {task.project} board</a>
      </p>
      <header class="view-head task-head">
        <h2>
          <span class="muted">#{task.id}</span> {task.title}
        </h2>
        <span class={`badge state-${task.state}`} data-task-state={task.state}>
          {STATE_LABELS[task.state]}
        </span>
      </header>
      <p class="task-meta">
        <span>{task.project}</span>
        <span>role {task.role}</span>
        {task.agent ? <span>{task.agent}{task.model ? ` (${task.model})` : ''}</span> : null}
        <span>{task.attempts} attempts</span>
        <span>{usd(task.costUsd)}</span>
        {task.labels.map((label) => (
          <span key={label} class="label">
            {label}
          </span>
        ))}
      </p>
      {task.blockedReason && (task.state === 'blocked' || task.state === 'needs_review') ? <p class="reason callout">{task.blockedReason}</p> : null}
      {task.pullRequest ? <PullRequestLine pullRequest={task.pullRequest} /> : null}
      <TaskActions task={task} now={Date.now()} onDone={detail.reload} />
      {task.body ? <div class="task-body">{task.body}</div> : null}

      <h3>Attempts</h3>
      <Attempts runs={runs} />

      <h3>Agent output {live ? <span class="badge badge-live">live</span> : null}</h3>
      <AgentOutput events={events} runs={runs} live={live} />

      <h3>Verdict</h3>
      <Verdict event={verdict} />

      <h3>Diff</h3>
      <Diff diff={diff.data} />
    </section>
  );
}
