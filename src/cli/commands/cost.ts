import { InvalidArgumentError, type Command } from 'commander';
import { COST_DIMENSIONS, costReport, parseDay, type CostDimension, type CostReport } from '../../engine/cost.js';
import { table } from '../output.js';
import { command } from '../run.js';

function parseDimension(value: string): CostDimension {
  if (!(COST_DIMENSIONS as readonly string[]).includes(value)) throw new InvalidArgumentError(`"${value}" is not a grouping: use ${COST_DIMENSIONS.join(', ')}`);
  return value as CostDimension;
}

const usd = (value: number) => `$${value.toFixed(2)}`;
const count = (value: number) => value.toLocaleString('en-US');

function reportText(report: CostReport, scope: string): string {
  if (report.rows.length === 0) return `No runs${scope}.`;
  const rows = report.rows.map((r) => [r.key, String(r.runs), usd(r.costUsd), count(r.tokensIn), count(r.tokensOut)]);
  const { total } = report;
  rows.push(['total', String(total.runs), usd(total.costUsd), count(total.tokensIn), count(total.tokensOut)]);
  return table(rows, [report.by.toUpperCase(), 'RUNS', 'COST', 'TOKENS IN', 'TOKENS OUT']);
}

export function registerCostCommand(program: Command): void {
  program
    .command('cost')
    .description('spend and tokens of agent runs, grouped by project, agent, day or model')
    .option('--by <key>', `group by ${COST_DIMENSIONS.join('|')}`, parseDimension, 'project')
    .option('--since <day>', 'only runs started on or after this UTC day (YYYY-MM-DD)')
    .option('-p, --project <name>', 'only this project')
    .option('--json', 'print JSON')
    .action(
      command(async (io, options: { by: CostDimension; since?: string; project?: string }) => {
        // Checked before the store is opened, so a typo in the date is exit 2 even without ORCH_HOME.
        const since = options.since === undefined ? undefined : parseDay(options.since);
        const orch = await io.orch();
        const report = await costReport(orch.store, { by: options.by, since, project: options.project });
        const scope = `${options.project ? ` in ${options.project}` : ''}${options.since ? ` since ${options.since}` : ''}`;
        io.out.emit({ ...report, since: options.since ?? null, project: options.project ?? null }, () => reportText(report, scope));
      }),
    );
}
