import type { Command } from 'commander';
import { hostname } from 'node:os';
import { OrchError } from '../../core/errors.js';
import { ownerOf } from '../../core/hosts.js';
import { runPlanCycle, type PlanCycleResult } from '../../engine/planner.js';
import { dryRunTick } from '../../engine/tick-input.js';
import { nudgeDaemon, runningDaemon } from '../daemon-client.js';
import { EXIT } from '../exit-codes.js';
import { table } from '../output.js';
import { command, type CommandIo } from '../run.js';

export function registerPlanCommand(program: Command): void {
  program
    .command('plan')
    .description('run a planner cycle that writes tasks for a project (--project), or show what the next tick would start (--dry-run)')
    .option('--dry-run', 'only show what the next tick would start, and why the rest waits; change nothing')
    .option('-p, --project <name>', 'the project to plan (with --dry-run: only this project)')
    .option('--agent <name>', "the agent that plans (default: the project's first)")
    .option('--json', 'print JSON')
    .action(
      command(async (io, options: { dryRun?: boolean; project?: string; agent?: string }) => {
        if (options.dryRun) return dryRun(io, options.project);
        if (!options.project) throw new OrchError('invalid_input', 'give --project <name> to run a planner cycle, or --dry-run to see what the next tick would start');
        return planCycle(io, options.project, options.agent);
      }),
    );
}

async function planCycle(io: CommandIo, project: string, agent: string | undefined): Promise<void> {
  const orch = await io.orch();
  const result = await runPlanCycle(orch, project, { agent });
  if (result.created.length > 0) await nudgeDaemon(io.home);
  io.out.emit(result, () => cycleText(result));
  // The plan is written either way; a planner that gave nothing usable is still a failed command.
  if (result.failure) process.exitCode = EXIT.failure;
}

function cycleText(result: PlanCycleResult): string {
  const lines = [`Plan written to ${result.planPath}`];
  if (result.failure) lines.push(`The planner failed (${result.failure.kind}): ${result.failure.message}`);
  lines.push('', result.created.length ? `Created ${result.created.length} task${result.created.length === 1 ? '' : 's'}:` : 'Created no task.');
  if (result.created.length) {
    lines.push(table(result.created.map((t) => [`  #${t.id}`, t.role, `priority ${t.priority}`, t.title + (t.dependsOn.length ? `  (after ${t.dependsOn.map((id) => `#${id}`).join(', ')})` : '')])));
  }
  if (result.refused.length) lines.push('', `Refused ${result.refused.length}:`, ...result.refused.map((r) => `  round ${r.round}: "${r.title}" ${r.reason}`));
  if (result.deferred.length) lines.push('', `Deferred ${result.deferred.length}:`, ...result.deferred.map((d) => `  ${d.title}${d.reason ? `: ${d.reason}` : ''}`));
  lines.push('', `Cost $${result.costUsd.toFixed(4)}`);
  return lines.join('\n');
}

async function dryRun(io: CommandIo, project: string | undefined): Promise<void> {
  const orch = await io.orch();
  if (project && !(await orch.store.getProject(project))) throw new OrchError('not_found', `project "${project}" not found`);
  // The slots counted are the daemon's of this ORCH_HOME, when one runs: it is the host that would start them.
  const daemon = runningDaemon(orch.home);
  const result = await dryRunTick(orch.store, orch.config, orch.now(), project, daemon ? ownerOf({ machine: hostname(), pid: daemon.pid }) : undefined);
  io.out.emit(result, () => {
    const { starts, routes, workers, waiting } = result.plan;
    const lines = [`Slots: ${result.slots.running} of ${result.slots.max} in use.`, ''];
    lines.push(starts.length || workers.length ? `Would start ${starts.length + workers.length}:` : 'Would start nothing.');
    const cap = (usd: number | null) => (usd === null ? '' : `cap $${usd.toFixed(2)}`);
    const rows = [...starts.map((s) => [`  #${s.taskId}`, s.project, s.agent + (s.routing ? ' (round robin)' : ''), cap(s.runCapUsd)]), ...workers.map((w) => ['  a worker', w.project, w.agent, cap(w.runCapUsd)])];
    if (rows.length) lines.push(table(rows));
    if (routes.length) lines.push('', `Would ask the router first ${routes.length}:`, table(routes.map((r) => [`  #${r.taskId}`, r.project])));
    if (waiting.length) lines.push('', `Waiting ${waiting.length}:`, table(waiting.map((w) => [`  #${w.taskId}`, w.project, w.reason, w.detail])));
    if (result.pendingWaits.length) {
      lines.push('', 'First it would:', ...result.pendingWaits.map((c) => `  ${c.transition} #${c.id}${c.waitingOn.length ? ` (waits on ${c.waitingOn.map((id) => `#${id}`).join(', ')})` : ''}`));
    }
    return lines.join('\n');
  });
}
