import type { Command } from 'commander';
import { freshLoginLink } from '../daemon-client.js';
import { command } from '../run.js';

export function registerDashboardCommand(program: Command): void {
  program
    .command('dashboard')
    .description('print a fresh one-time login link to the running daemon\'s web dashboard')
    .option('--json', 'print JSON')
    .action(
      command(async (io) => {
        const link = await freshLoginLink(io.home);
        const minutes = Math.max(1, Math.round((link.expiresAt - Date.now()) / 60_000));
        io.out.emit(link, () => `${link.url}\n(open it in your browser: it works once, within ${minutes} minutes)`);
      }),
    );
}
