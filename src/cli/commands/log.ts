import type { Command } from 'commander';
import { OrchError } from '../../core/errors.js';
import type { OrchEvent } from '../../core/types.js';
import { parseTaskId } from '../args.js';
import { command } from '../run.js';

/** One event as a line of history; agent chatter is summarised, not dumped. */
function describeEvent(event: OrchEvent): string {
  const d = event.data as Record<string, unknown>;
  const run = event.runId !== null ? ` [run ${event.runId}]` : '';
  const text = (value: unknown, max = 120) => String(value ?? '').replace(/\s+/g, ' ').slice(0, max);
  let what: string;
  if (event.type.startsWith('task.') && typeof d.from === 'string') what = `${event.type.slice(5)}: ${d.from} → ${d.to}${d.reason ? ` — ${text(d.reason)}` : ''}`;
  else if (event.type === 'agent.assistant_text') what = `agent says: ${text(d.text)}`;
  else if (event.type === 'agent.tool_call') what = `agent uses ${text(d.name, 40)}`;
  else if (event.type === 'agent.tool_result') what = `tool result${d.isError ? ' (error)' : ''}`;
  else if (event.type === 'run.ended') what = `run ended ${d.outcome}: ${text(d.reason)}${typeof d.costUsd === 'number' ? ` ($${d.costUsd.toFixed(4)})` : ''}`;
  else if (event.type === 'run.failed') what = `run failed (${text(d.endReason, 40)}): ${text(d.reason)}`;
  else if (event.type === 'run.completed') what = `run completed: ${text(d.endReason, 40)}`;
  else if (event.type === 'judge.verdict') what = `verdict: ${text(d.summary)}`;
  else if (event.type === 'approval.requested') what = d.kind === 'question' ? `approval #${String(d.approval)}: agent asks: ${text(d.question)}` : `approval #${String(d.approval)}: agent asks to use ${text(d.tool, 40)} ${text(JSON.stringify(d.input), 80)}`;
  else if (event.type === 'approval.decided') what = `approval #${String(d.approval)}: ${text(d.state, 20)} by ${text(d.decidedBy, 20)}: ${text(d.reason)}`;
  else if (event.type.startsWith('pr.')) what = describePullRequestEvent(event.type, d) ?? `${event.type} ${text(JSON.stringify(d))}`;
  else what = `${event.type}${Object.keys(d).length ? ` ${text(JSON.stringify(d))}` : ''}`;
  return `${new Date(event.at).toISOString().replace('T', ' ').slice(0, 19)}${run} ${what}`;
}

export function registerLogCommand(program: Command): void {
  program
    .command('log')
    .description("a task's history: every transition, run, verdict and merge, in order")
    .argument('<task>', 'task id', parseTaskId)
    .option('--agent-output', 'include every agent event, not only text and tool calls')
    .option('--json', 'print JSON')
    .action(
      command(async (io, id: number, options: { agentOutput?: boolean }) => {
        const orch = await io.orch();
        if (!(await orch.store.getTask(id))) throw new OrchError('not_found', `task ${id} not found`);
        const chatty = new Set(['agent.usage', 'agent.cost', 'agent.tool_result', 'agent.session_started']);
        const events = (await orch.store.listEvents({ taskId: id })).filter((e) => options.agentOutput || !chatty.has(e.type));
        io.out.emit(events, () => (events.length ? events.map(describeEvent).join('\n') : 'No history.'));
      }),
    );
}

/** A pull request's story in `orch log`: checks, re-runs, pushes, replies, merges. */
function describePullRequestEvent(type: string, d: Record<string, unknown>): string | null {
  const pr = `pull request #${String(d.number)}`;
  const names = (value: unknown) => (Array.isArray(value) ? value.join(', ') : '');
  switch (type) {
    case 'pr.checks':
      return `${pr}: checks ${String(d.checks ?? 'none')} on ${String(d.headSha).slice(0, 12)}${names(d.failing) ? ` (failing: ${names(d.failing)})` : ''}`;
    case 'pr.rerun':
      return `${pr}: re-running the failed jobs of ${names(d.checks)}`;
    case 'pr.pushed':
      return `${pr}: pushed ${String(d.to).slice(0, 12)}${d.fix ? ` (${String(d.fix)} round)` : ''}`;
    case 'pr.replied':
      return `${pr}: replied once for review round ${String(d.round)}, resolved ${names(d.resolved) ? (d.resolved as unknown[]).length : 0} thread(s)`;
    case 'pr.merged':
      return `${pr}: merged by Orch (${String(d.method)})`;
    case 'pr.merge_refused':
      return `${pr}: merge refused: ${String(d.message)}`;
    default:
      return null;
  }
}
