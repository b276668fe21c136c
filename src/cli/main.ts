#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerAgentCommands } from './commands/agents.js';
import { registerClaimsCommand } from './commands/claims.js';
import { registerConfigCommands } from './commands/config.js';
import { registerCostCommand } from './commands/cost.js';
import { registerDashboardCommand } from './commands/dashboard.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerInitCommand } from './commands/init.js';
import { registerIssueCommands } from './commands/issue.js';
import { registerJobCommands } from './commands/job.js';
import { registerKillCommand } from './commands/kill.js';
import { registerPlanCommand } from './commands/plan.js';
import { registerProjectCommands } from './commands/project.js';
import { registerServeCommand } from './commands/serve.js';
import { registerServiceCommands } from './commands/service.js';
import { registerStatusCommand } from './commands/status.js';
import { registerLogCommand } from './commands/log.js';
import { registerRunCommands } from './commands/run.js';
import { registerTaskCommands } from './commands/task.js';
import { orchVersion, registerVersionCommand } from './commands/version.js';
import { registerWatchCommands } from './commands/watch.js';
import { registerWorkerCommands } from './commands/worker.js';
import { EXIT } from './output.js';

export function buildProgram(): Command {
  const program = new Command('orch')
    .description('Runs a team of AI coding agents on your backlog, each task in its own git worktree.')
    .version(orchVersion(), '-V, --version')
    .showSuggestionAfterError()
    .configureOutput({ outputError: (text, write) => write(`orch: ${text.replace(/^error: /, '')}`) });
  registerDemoCommand(program);
  registerInitCommand(program);
  registerProjectCommands(program);
  const task = registerTaskCommands(program);
  registerRunCommands(program, task);
  registerWatchCommands(program, task);
  registerKillCommand(task);
  registerLogCommand(program);
  registerCostCommand(program);
  registerJobCommands(program);
  registerPlanCommand(program);
  registerWorkerCommands(registerAgentCommands(program));
  registerIssueCommands(program);
  registerClaimsCommand(program);
  registerServeCommand(program);
  registerServiceCommands(program);
  registerDashboardCommand(program);
  registerStatusCommand(program);
  registerConfigCommands(program);
  registerVersionCommand(program);
  // Bad arguments are a usage error (exit 2), whichever sub-command they were given to.
  const exitOnUsageError = (cmd: Command) => {
    cmd.exitOverride();
    cmd.commands.forEach(exitOnUsageError);
  };
  exitOnUsageError(program);
  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  if (!(error instanceof CommanderError)) throw error;
  const benign = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code);
  process.exitCode = benign || error.exitCode === 0 ? EXIT.ok : EXIT.invalid_input;
}
