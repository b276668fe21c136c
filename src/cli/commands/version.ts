import type { Command } from 'commander';
import { orchVersion } from '../orch-version.js';
import { command } from '../run.js';

export function registerVersionCommand(program: Command): void {
  program
    .command('version')
    .description('print the version of Orch and of Node.js')
    .option('--json', 'print JSON')
    .action(
      command(async (io) => {
        const info = { orch: orchVersion(), node: process.version };
        io.out.emit(info, () => `orch ${info.orch} (node ${info.node})`);
      }),
    );
}
