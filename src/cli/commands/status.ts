import type { Command } from 'commander';
import { TASK_STATES, type TaskState } from '../../core/types.js';
import type { HeldDelivery } from '../../core/delivery.js';
import { describeStoreTarget, storeTarget } from '../../engine/context.js';
import { heldDelivery } from '../../engine/delivery.js';
import { sandboxRefusal } from '../../engine/tick-input.js';
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
        const projects = await orch.store.listProjects();
        const rows: { name: string; paused: boolean; pausedReason: string | null; configured: boolean; tasks: Partial<Record<TaskState, number>>; delivery: HeldDelivery | null; sandboxRefused: string | null }[] = [];
        const totals: Partial<Record<TaskState, number>> = {};
        for (const p of projects) {
          const counts = await orch.store.countTasksByState(p.name);
          for (const [state, n] of Object.entries(counts) as [TaskState, number][]) totals[state] = (totals[state] ?? 0) + n;
          const configured = orch.config.projects[p.name];
          rows.push({ name: p.name, paused: p.paused, pausedReason: p.pausedReason, configured: configured !== undefined, tasks: counts, delivery: await heldDelivery(orch, p.name), sandboxRefused: configured ? sandboxRefusal(configured) : null });
        }
        const claims = await orch.store.listClaims();
        const running = (await orch.store.listRuns({ open: true })).length;
        const status = { version: orchVersion(), home: orch.home, config: orch.config.configPath, database: describeStoreTarget(storeTarget(orch.home, orch.config.databaseUrl)), slots: { running, max: orch.config.scheduler.maxAgents }, claims: claims.length, tasks: totals, projects: rows };
        io.out.emit(status, () => {
          const count = (c: Partial<Record<TaskState, number>>, s: TaskState) => String(c[s] ?? 0);
          const shown: TaskState[] = TASK_STATES.filter((s) => s !== 'cancelled');
          return [
            `Orch ${status.version} — ${status.home}`,
            `Agents running ${running} of ${status.slots.max} slots; ${claims.length} claim(s).`,
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
