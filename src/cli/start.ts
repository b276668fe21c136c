import { runProgram } from './command-line.js';
import { registrarsFor } from './program.js';

/** Parses the command line and runs the command it names, loading only that command's group. */
export async function runCli(argv: readonly string[]): Promise<void> {
  await runProgram(argv, await registrarsFor(argv.slice(2)));
}
