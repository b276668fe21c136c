import type { Command } from 'commander';
import { registerKillCommand } from './kill.js';
import { registerRunCommands } from './run.js';
import { registerTaskCommands } from './task.js';
import { registerWatchCommands } from './watch.js';

/** `orch task …`, with `run`, `stream` and the sub-commands attach, live and kill that hang off `task`. */
export function registerTaskGroup(program: Command): void {
  const task = registerTaskCommands(program);
  registerRunCommands(program, task);
  registerWatchCommands(program, task);
  registerKillCommand(task);
}
