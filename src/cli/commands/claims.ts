import type { Command } from 'commander';
import { relativeTime, table } from '../output.js';
import { command } from '../run.js';

export function registerClaimsCommand(program: Command): void {
  program
    .command('claims')
    .description('list live claims: which run holds which task, and until when')
    .option('-p, --project <name>', 'only this project')
    .option('--json', 'print JSON')
    .action(
      command(async (io, options: { project?: string }) => {
        const orch = await io.orch();
        const claims = await orch.store.listClaims(options.project);
        const now = orch.now();
        io.out.emit(claims, () =>
          claims.length === 0
            ? 'No claims.'
            : table(
                claims.map((c) => [`#${c.taskId}`, c.owner, String(c.token), c.runId === null ? '' : `run ${c.runId}`, c.leaseUntil < now ? `expired ${relativeTime(c.leaseUntil, now)}` : `lease ${relativeTime(c.leaseUntil, now)}`]),
                ['TASK', 'OWNER', 'TOKEN', 'RUN', 'LEASE'],
              ),
        );
      }),
    );
}
