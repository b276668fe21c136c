import { Command, CommanderError } from 'commander';
import { EXIT } from './exit-codes.js';
import { orchVersion } from './orch-version.js';
import { showControls } from './output.js';

export type Registrar = (program: Command) => void;

export function buildProgram(registrars: readonly Registrar[]): Command {
  const program = new Command('orch')
    .description('Runs a team of AI coding agents on your backlog, each task in its own git worktree.')
    .version(orchVersion(), '-V, --version')
    .showSuggestionAfterError()
    .configureOutput({ outputError: (text, write) => write(`orch: ${showControls(text.replace(/^error: /, '').trimEnd())}\n`) });
  for (const register of registrars) register(program);
  // Bad arguments are a usage error (exit 2), whichever sub-command they were given to.
  const exitOnUsageError = (cmd: Command) => {
    cmd.exitOverride();
    cmd.commands.forEach(exitOnUsageError);
  };
  exitOnUsageError(program);
  return program;
}

/** Parses the command line and runs the command it names; bad usage exits 2, help and --version 0. */
export async function runProgram(argv: readonly string[], registrars: readonly Registrar[]): Promise<void> {
  try {
    await buildProgram(registrars).parseAsync([...argv]);
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    const benign = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code);
    process.exitCode = benign || error.exitCode === 0 ? EXIT.ok : EXIT.invalid_input;
  }
}
