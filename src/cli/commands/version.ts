import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { command } from '../run.js';

/** The version in package.json, which sits three levels above this file in both src/ and dist/. */
export function orchVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

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
