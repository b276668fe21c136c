import { CommanderError } from 'commander';
import { EXIT } from './exit-codes.js';
import { buildProgram, registrarsFor } from './program.js';

/** Parses the command line and runs the command it names; bad usage exits 2, help and --version 0. */
export async function runCli(argv: readonly string[]): Promise<void> {
  try {
    await buildProgram(await registrarsFor(argv.slice(2))).parseAsync([...argv]);
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    const benign = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code);
    process.exitCode = benign || error.exitCode === 0 ? EXIT.ok : EXIT.invalid_input;
  }
}
