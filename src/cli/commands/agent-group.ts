import type { Command } from 'commander';
import { registerAgentCommands } from './agents.js';
import { registerWorkerCommands } from './worker.js';

/** `orch agents …` and `orch agent …`, whose pull-worker sub-commands (claim, describe, done) hang off `agent`. */
export function registerAgentGroup(program: Command): void {
  registerWorkerCommands(registerAgentCommands(program));
}
