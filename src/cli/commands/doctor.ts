import type { Command } from 'commander';
import { diagnose } from '../../engine/doctor.js';
import { EXIT } from '../exit-codes.js';
import { command } from '../run.js';

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('check what running agents needs here: the store, the sandbox, agent CLIs, git, disk')
    .option('--json', 'print JSON')
    .action(
      command(async (io) => {
        const checks = await diagnose(io.home);
        io.out.emit({ checks }, () =>
          checks.map((check) => `${check.status.toUpperCase().padEnd(4)} ${check.name}: ${check.detail}${check.fix ? ` — ${check.fix}` : ''}`).join('\n'),
        );
        if (checks.some((check) => check.status === 'fail')) process.exitCode = EXIT.failure;
      }),
    );
}
