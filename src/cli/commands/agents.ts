import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { listAgents, smokeTestAgent } from '../../engine/agents.js';
import { relativeTime, table } from '../output.js';
import { command } from '../run.js';

function parseSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`"${value}" is not a number of seconds`);
  return n;
}

export function registerAgentCommands(program: Command): Command {
  program
    .command('agents')
    .description('list the configured agents: installed here or not, their versions and who uses them')
    .option('--json', 'print JSON')
    .action(
      command(async (io) => {
        const orch = await io.orch();
        const agents = await listAgents(orch);
        const now = orch.now();
        io.out.emit(agents, () =>
          table(
            agents.map((a) => [
              a.name,
              a.kind,
              a.path ? (a.version ?? 'installed') : `not found (${a.command})`,
              a.usedBy.join(', ') || '-',
              a.coolingUntil ? `cooling down, ready ${relativeTime(a.coolingUntil, now)}` : '',
            ]),
            ['AGENT', 'KIND', 'VERSION', 'USED BY', ''],
          ),
        );
      }),
    );

  const agent = program.command('agent').description('work with one agent');
  agent
    .command('test')
    .description('a real smoke run of an agent in a scratch repository: can it start, answer and edit a file?')
    .argument('<name>', 'agent name (see `orch agents`)')
    .option('--timeout <seconds>', 'stop the run after this long', parseSeconds, 180)
    .option('--keep', 'keep the scratch repository and log for a look')
    .option('--json', 'print JSON')
    .action(
      command(async (io, name: string, options: { timeout: number; keep?: boolean }) => {
        const orch = await io.orch();
        const report = await smokeTestAgent(orch, name, { timeoutMs: options.timeout * 1000, keep: options.keep });
        io.out.emit(report, () =>
          [
            `${report.agent}: ${report.outcome} in ${(report.durationMs / 1000).toFixed(1)}s — ${report.reason}`,
            `  file written  ${report.fileWritten ? 'yes' : 'no'}${report.changes.length ? ` (${report.changes.join(', ')})` : ''}`,
            `  cost          ${report.costUsd === null ? 'unknown (no price for its model)' : `$${report.costUsd.toFixed(4)}`}`,
            `  events        ${Object.entries(report.events).map(([type, n]) => `${type} ${n}`).join(', ') || 'none'}`,
            ...(report.directory ? [`  kept in       ${report.directory}`] : []),
          ].join('\n'),
        );
        if (report.outcome !== 'succeeded' || !report.fileWritten) process.exitCode = 1;
      }),
    );
  return agent;
}
