import type { Command } from 'commander';
import { refusalCode } from '../../core/delivery.js';
import { deliverHeld, type HeldDeliveryOutcome } from '../../engine/delivery.js';
import { projectHolding } from '../../engine/projects.js';
import { EXIT } from '../exit-codes.js';
import { command } from '../run.js';

function describeOutcome(outcome: HeldDeliveryOutcome): string {
  if (outcome.commits === 0) return `${outcome.project}: nothing waiting, everything merged is delivered`;
  if (outcome.result.delivered) return `${outcome.project}: delivered ${outcome.commits} commit${outcome.commits === 1 ? '' : 's'}`;
  return `${outcome.project}: ${outcome.held?.summary ?? outcome.result.message}`;
}

export function registerDeliverCommand(program: Command): void {
  program
    .command('deliver')
    .description('deliver merged commits waiting for your checkout (or remote) now')
    .argument('[project]', 'the project (default: the one whose repository you are in, else every project)')
    .option('--json', 'print JSON')
    .action(
      command(async (io, project: string | undefined) => {
        const orch = await io.orch();
        const named = project ?? (await projectHolding(orch, process.cwd()));
        const names = named !== null ? [named] : Object.keys(orch.config.projects);
        const outcomes: HeldDeliveryOutcome[] = [];
        for (const name of names) outcomes.push(await deliverHeld(orch, name));
        const refused = outcomes.filter((o) => !o.result.delivered);
        const first = refused[0]?.result;
        if (first && !first.delivered) process.exitCode = EXIT[refusalCode(first.reason)];
        if (io.out.json) {
          io.out.emit({ deliveries: outcomes }, () => '');
          return;
        }
        const delivered = outcomes.filter((o) => o.result.delivered);
        if (delivered.length > 0 || outcomes.length === 0) io.out.emit(null, () => (outcomes.length === 0 ? 'No projects.' : delivered.map(describeOutcome).join('\n')));
        for (const outcome of refused) process.stderr.write(`orch: ${describeOutcome(outcome)}\n`);
      }),
    );
}
