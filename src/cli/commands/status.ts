import type { Command } from 'commander';
import { TASK_STATES, type TaskState } from '../../core/types.js';
import { portfolioStatus } from '../../engine/portfolio-status.js';
import { table } from '../output.js';
import { command } from '../run.js';
import { orchVersion } from '../orch-version.js';

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('the portfolio at a glance: projects, tasks by state, running agents and claims')
    .option('--json', 'print JSON')
    .action(
      command(async (io) => {
        const orch = await io.orch();
        const portfolio = await portfolioStatus(orch);
        const status = { version: orchVersion(), ...portfolio };
        const rows = portfolio.projects;
        io.out.emit(status, () => {
          const count = (c: Partial<Record<TaskState, number>>, s: TaskState) => String(c[s] ?? 0);
          const shown: TaskState[] = TASK_STATES.filter((s) => s !== 'cancelled');
          return [
            `Orch ${status.version} — ${status.home}`,
            `Agents running ${status.slots.running} of ${status.slots.max} slots; ${status.claims} claim(s).`,
            '',
            rows.length === 0
              ? 'No projects. Run `orch init` in a git repository.'
              : table(
                  rows.map((r) => [r.name, r.paused ? 'paused' : r.configured ? 'active' : 'unconfigured', ...shown.map((s) => count(r.tasks, s))]),
                  ['PROJECT', 'STATUS', ...shown.map((s) => s.toUpperCase())],
                ),
            ...rows.flatMap((r) => (r.delivery ? [`${r.name}: ${r.delivery.summary}`] : [])),
            ...rows.flatMap((r) => (r.sandboxRefused ? [`${r.name}: no agent starts: ${r.sandboxRefused}`] : [])),
          ].join('\n');
        });
      }),
    );
}
