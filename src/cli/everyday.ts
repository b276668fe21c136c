// The entry of the everyday commands' bundle (see everyday-commands.ts): the whole group of each, so
// help, errors and every option read exactly as from the full CLI. Each group is imported when its
// command runs, so the bundle sets up only that group's modules (code it does not run costs no more
// than its text, with the code cache).
import BetterSqlite3 from 'better-sqlite3';
import { useBundledSqliteDriver } from '../store/sqlite/sqlite-driver.js';
import { runProgram, type Registrar } from './command-line.js';
import { everydayGroup, type EverydayGroup } from './everyday-commands.js';

// better-sqlite3's own JavaScript is a dozen files, resolved, read and compiled at every start when
// required from node_modules; in this bundle it is compiled once with the rest.
useBundledSqliteDriver(BetterSqlite3);

export const EVERYDAY_GROUPS: Record<EverydayGroup, () => Promise<Registrar>> = {
  task: async () => (await import('./commands/task-group.js')).registerTaskGroup,
  issue: async () => (await import('./commands/issue.js')).registerIssueCommands,
  agent: async () => (await import('./commands/agent-group.js')).registerAgentGroup,
  status: async () => (await import('./commands/status.js')).registerStatusCommand,
};

/** Runs an everyday command line (`process.argv`); any other is a mistake of the caller. */
export async function runEverydayCli(argv: readonly string[]): Promise<void> {
  const group = everydayGroup(argv.slice(2));
  if (group === undefined) throw new Error(`not an everyday command: ${argv.slice(2).join(' ')}`);
  await runProgram(argv, [await EVERYDAY_GROUPS[group]()]);
}
