// A task's agents at work, as a reader wants it: what the agent said, each tool it called with the
// gist of its input, what the tool answered (long output folded), and the steps Orch took around the
// runs — never raw JSON unless asked for.

import { Component } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { clockTime, STATE_LABELS, usd } from '../format.js';
import type { AgentEventData, OrchEvent, Run, VerdictEventData } from '../types.js';

/** Bookkeeping a reader does not need. */
const HIDDEN = new Set(['agent.usage', 'agent.cost', 'agent.unparsed', 'run.spawned', 'run.updated', 'claim.acquired', 'claim.released', 'claim.renewed', 'task.cost']);
const FOLD_LINES = 12;
/** Lines drawn unless asked for all: a busy agent's hundreds a second stay cheap to draw, frame after frame. */
const SHOWN_LINES = 1000;

/** The field of a tool's input that says what it does (a command, a path), else null. */
function toolGist(input: unknown): string | null {
  if (input === null || typeof input !== 'object') return typeof input === 'string' ? input : null;
  const fields = input as Record<string, unknown>;
  for (const key of ['command', 'cmd', 'file_path', 'path', 'filePath', 'pattern', 'url', 'query', 'description', 'prompt']) {
    const value = fields[key];
    if (typeof value === 'string' && value.trim() !== '') return value;
    if (Array.isArray(value) && value.every((part) => typeof part === 'string')) return value.join(' ');
  }
  return null;
}

function Folded({ text, className }: { text: string; className: string }) {
  const lines = text.replace(/\s+$/, '').split('\n');
  if (lines.length <= FOLD_LINES) return <pre class={className}>{lines.join('\n') || '(no output)'}</pre>;
  return (
    <details class="fold">
      <summary>
        <pre class={className}>{lines.slice(0, FOLD_LINES).join('\n')}</pre>
        <span class="fold-more">show all {lines.length} lines</span>
      </summary>
      <pre class={className}>{lines.slice(FOLD_LINES).join('\n')}</pre>
    </details>
  );
}

/** Prose as it came, fenced code blocks (the result contract, snippets) set apart. */
function AssistantText({ text }: { text: string }) {
  const parts = text.split(/^```[^\n]*\n?/m);
  return (
    <>
      {parts.map((part, index) => (index % 2 === 1 ? <pre key={index}>{part.replace(/\n$/, '')}</pre> : part.trim() === '' ? null : <span key={index}>{part.replace(/^\n+|\n+$/g, '')}</span>))}
    </>
  );
}

/** Where a long output was cut for the event: the whole is kept in the run's agent.jsonl. */
function CutNote({ data, runId }: { data: AgentEventData; runId: number | null }) {
  if (!data.cut) return null;
  const chars = Object.values(data.cut).reduce((sum, n) => sum + n, 0);
  const where = `line ${data.logLine} of the run's agent.jsonl`;
  return (
    <div class="muted small">
      … {chars} more characters in {runId === null ? where : <a href={`/runs/${runId}/log/${data.logLine}`} target="_blank" rel="noopener noreferrer">{where}</a>}
    </div>
  );
}

function AgentEntry({ event }: { event: OrchEvent }) {
  const data = event.data as unknown as AgentEventData;
  switch (data.type) {
    case 'assistant_text':
      return (
        <div class="out out-text" data-event-type={event.type}>
          <AssistantText text={data.text} />
          <CutNote data={data} runId={event.runId} />
        </div>
      );
    case 'tool_call': {
      const gist = toolGist(data.input);
      return (
        <div class="out out-tool" data-event-type={event.type}>
          <span class="tool-name">{data.name}</span>
          {gist ? <code class="tool-gist">{gist.length > 300 ? `${gist.slice(0, 300)}…` : gist}</code> : null}
          <details class="tool-input">
            <summary>input</summary>
            <pre>{JSON.stringify(data.input, null, 2)}</pre>
          </details>
        </div>
      );
    }
    case 'tool_result':
      return (
        <div class={`out out-result${data.isError ? ' out-error' : ''}`} data-event-type={event.type}>
          <span class="result-mark" aria-label={data.isError ? 'tool error' : 'tool result'}>{data.isError ? '✗' : '↳'}</span>
          <Folded text={String(data.output ?? '')} className="result-text" />
          <CutNote data={data} runId={event.runId} />
        </div>
      );
    case 'session_started':
      return <div class="out out-meta" data-event-type={event.type}>session started{data.model ? ` · ${data.model}` : ''}</div>;
    case 'rate_limit':
      return <div class="out out-warn" data-event-type={event.type}>rate limited: {data.message}</div>;
    case 'error':
      return <div class="out out-warn" data-event-type={event.type}>{data.kind} error: {data.message}</div>;
    case 'usage_refused':
      return <div class="out out-warn" data-event-type={event.type}>{data.reason}</div>;
    case 'result':
      return (
        <div class={`out out-meta${data.ok ? '' : ' out-error'}`} data-event-type={event.type}>
          agent finished {data.ok ? 'ok' : 'with a failure'}
          {typeof data.turns === 'number' ? ` after ${data.turns} turns` : ''}
        </div>
      );
    default:
      return null;
  }
}

/** Orch's own steps around the agent, one line each. */
function stepLine(event: OrchEvent): string | null {
  const d = event.data;
  const text = (value: unknown) => String(value ?? '');
  switch (event.type) {
    case 'task.created':
      return 'task added';
    case 'run.started':
      return `attempt ${text(d.attempt)} started with ${text(d.agent)}`;
    case 'workspace.ready':
      return `worktree ready on ${text(d.branch)}`;
    case 'workspace.committed':
      return `left-over changes committed (${text(d.commit).slice(0, 10)})`;
    case 'run.ended':
      return `run ended ${text(d.outcome)}${d.reason ? `: ${text(d.reason)}` : ''}${typeof d.costUsd === 'number' ? ` (${usd(d.costUsd)})` : ''}`;
    case 'run.failed':
      return `attempt failed: ${text(d.reason)}`;
    case 'run.recovered':
      return 'run ended: its process had stopped (recovered)';
    case 'judge.verdict':
      return `verdict: ${(d as unknown as VerdictEventData).summary}`;
    case 'merge.done':
      return `merged ${text(d.commit).slice(0, 10)} into ${text(d.branch)}`;
    case 'merge.pushed':
      return `branch pushed to ${text(d.remote)}`;
    case 'delivery.done':
      return `delivered to your repository (${text(d.branch)})`;
    case 'delivery.pending':
      return `delivery waits: ${text(d.message ?? d.reason)}`;
    case 'hook.ran':
      return `hook ${text(d.name)} ${d.passed ? 'passed' : 'failed'}`;
  }
  if (event.type.startsWith('task.') && typeof d.to === 'string') {
    return `${STATE_LABELS[text(d.from)] ?? text(d.from)} → ${STATE_LABELS[d.to] ?? d.to}${d.reason ? ` — ${text(d.reason)}` : ''}`;
  }
  return null;
}

/**
 * One event, drawn once: events never change, so a frame that adds a few lines to thousands redraws
 * only the new ones (a busy agent sends hundreds a second).
 */
class Entry extends Component<{ event: OrchEvent }> {
  override shouldComponentUpdate(next: { event: OrchEvent }): boolean {
    return next.event !== this.props.event;
  }

  override render() {
    return <EntryLine event={this.props.event} />;
  }
}

function EntryLine({ event }: { event: OrchEvent }) {
  if (event.type.startsWith('agent.')) return <AgentEntry event={event} />;
  const line = stepLine(event);
  if (line === null) return null;
  return (
    <div class="out out-step" data-event-type={event.type}>
      <time>{clockTime(event.at)}</time> {line}
    </div>
  );
}

/**
 * Events grouped by the run they belong to. Steps that name no run (the task's own moves) stay with the
 * run before them, so a run's story is not cut in pieces; those before any run stand alone.
 */
function byRun(events: OrchEvent[]): { runId: number | null; events: OrchEvent[] }[] {
  const groups: { runId: number | null; events: OrchEvent[] }[] = [];
  for (const event of events) {
    if (HIDDEN.has(event.type)) continue;
    const last = groups.at(-1);
    if (last && (event.runId === null || event.runId === last.runId)) last.events.push(event);
    else groups.push({ runId: event.runId, events: [event] });
  }
  return groups;
}

export function AgentOutput({ events, runs, live }: { events: OrchEvent[]; runs: Run[]; live: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  const following = useRef(true);

  // Keep the newest output in view while the reader is at the bottom; leave them be when they scrolled up.
  useEffect(() => {
    const element = box.current;
    if (element && following.current) element.scrollTop = element.scrollHeight;
  }, [events.length]);

  const [everything, setEverything] = useState(false);
  const earlier = everything ? 0 : Math.max(0, events.length - SHOWN_LINES);
  const attemptOf = new Map(runs.map((run) => [run.id, run]));
  const groups = byRun(earlier > 0 ? events.slice(earlier) : events);
  return (
    <div
      class="agent-output"
      ref={box}
      data-agent-output
      onScroll={(event) => {
        const element = event.currentTarget;
        following.current = element.scrollHeight - element.scrollTop - element.clientHeight < 40;
      }}
    >
      {earlier > 0 ? (
        <button type="button" class="button button-quiet" data-action="show-earlier" onClick={() => setEverything(true)}>
          Show the {earlier.toLocaleString()} earlier lines
        </button>
      ) : null}
      {groups.length === 0 ? <p class="empty">No output yet{live ? ': it appears here as the agent works.' : '.'}</p> : null}
      {groups.map((group, index) => {
        const run = group.runId === null ? undefined : attemptOf.get(group.runId);
        return (
          <section key={`${group.runId}-${index}`} class="out-run">
            {group.runId !== null ? (
              <h4 class="out-run-title">
                Attempt {run?.attempt ?? '?'} · run #{group.runId}
                {run ? ` · ${run.agent}${run.model ? ` (${run.model})` : ''}` : ''}
              </h4>
            ) : null}
            {group.events.map((event) => (
              <Entry key={event.id} event={event} />
            ))}
          </section>
        );
      })}
      {live ? <p class="out-live" aria-live="polite"><span class="live-dot" /> live</p> : null}
    </div>
  );
}
