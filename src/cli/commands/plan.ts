import type { Command } from 'commander';
import { OrchError } from '../../core/errors.js';
import { dryRunTick } from '../../engine/tick-input.js';
import { table } from '../output.js';
import { command } from '../run.js';

export function registerPlanCommand(program: Command): void {
  program
    .command('plan')
    .description('show what the next tick would start, and why the rest waits')
    .option('--dry-run', 'only show the plan; change nothing')
    .option('-p, --project <name>', 'only this project')
    .option('--json', 'print JSON')
    .action(
      command(async (io, options: { dryRun?: boolean; project?: string }) => {
        if (!options.dryRun) throw new OrchError('invalid_input', 'only `orch plan --dry-run` is available: `orch serve` carries plans out');
        const orch = await io.orch();
        if (options.project && !(await orch.store.getProject(options.project))) throw new OrchError('not_found', `project "${options.project}" not found`);
        const result = await dryRunTick(orch.store, orch.config, orch.now(), options.project);
        io.out.emit(result, () => {
          const { starts, workers, waiting } = result.plan;
          const lines = [`Slots: ${result.slots.running} of ${result.slots.max} in use.`, ''];
          lines.push(starts.length || workers.length ? `Would start ${starts.length + workers.length}:` : 'Would start nothing.');
          const cap = (usd: number | null) => (usd === null ? '' : `cap $${usd.toFixed(2)}`);
          const rows = [...starts.map((s) => [`  #${s.taskId}`, s.project, s.agent, cap(s.runCapUsd)]), ...workers.map((w) => ['  a worker', w.project, w.agent, cap(w.runCapUsd)])];
          if (rows.length) lines.push(table(rows));
          if (waiting.length) lines.push('', `Waiting ${waiting.length}:`, table(waiting.map((w) => [`  #${w.taskId}`, w.project, w.reason, w.detail])));
          if (result.pendingWaits.length) {
            lines.push('', 'First it would:', ...result.pendingWaits.map((c) => `  ${c.transition} #${c.id}${c.waitingOn.length ? ` (waits on ${c.waitingOn.map((id) => `#${id}`).join(', ')})` : ''}`));
          }
          return lines.join('\n');
        });
      }),
    );
}
