import type { Command } from 'commander';
import type { ScoreLine } from '../../core/scoreboard.js';
import type { ScoreboardReport } from '../../engine/scoreboard.js';
import { parseDays, parseSeconds } from '../args.js';
import { relativeTime, table } from '../output.js';
import { command } from '../run.js';


const percent = (rate: number | null) => (rate === null ? '-' : `${Math.round(rate * 100)}%`);
const usd = (value: number) => `$${value.toFixed(2)}`;
const duration = (ms: number) => (ms < 60_000 ? `${Math.round(ms / 1000)}s` : `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`);

function scoreTable(title: string, lines: ScoreLine[], total: ScoreLine): string {
  const row = (l: ScoreLine) => [l.key, String(l.runs), `${l.succeeded}/${l.judged}`, percent(l.successRate), usd(l.costUsd), usd(l.avgCostUsd), duration(l.avgDurationMs)];
  return table([...lines.map(row), row(total)], [title, 'RUNS', 'OK', 'SUCCESS', 'COST', 'AVG COST', 'AVG TIME']);
}

function scoreboardText(report: ScoreboardReport): string {
  const scope = `${report.project ? ` in ${report.project}` : ''}${report.sinceDays !== null ? ` in the last ${report.sinceDays} day(s)` : ''}`;
  if (report.total.runs === 0) return `No finished runs${scope}.`;
  return [
    `Finished runs${scope}. OK: runs that succeeded and passed the judge, of those that count (cancelled, crashed and rate-limited runs do not).`,
    '',
    scoreTable('AGENT', report.byAgent, report.total),
    '',
    scoreTable('MODEL', report.byModel, report.total),
    '',
    scoreTable('ROLE', report.byRole, report.total),
  ].join('\n');
}

export function registerAgentCommands(program: Command): Command {
  const agents = program
    .command('agents')
    .description('list the configured agents: installed here or not, their versions and who uses them')
    .option('--json', 'print JSON')
    .action(
      command(async (io) => {
        const orch = await io.orch();
        const { listAgents } = await import('../../engine/agents.js');
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

  agents
    .command('stats')
    .description('the scoreboard: success rate, cost and duration of finished runs per agent, model and role')
    .option('-p, --project <name>', 'only this project')
    .option('--since <days>', 'only runs started in the last this many days', parseDays)
    .option('--json', 'print JSON')
    .action(
      command(async (io, options: { project?: string; since?: number }) => {
        const orch = await io.orch();
        const { scoreboardReport } = await import('../../engine/scoreboard.js');
        const report = await scoreboardReport(orch.store, { project: options.project, sinceDays: options.since }, orch.now());
        io.out.emit(report, () => scoreboardText(report));
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
        const { smokeTestAgent } = await import('../../engine/agents.js');
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
