#!/usr/bin/env node
import { CommanderError } from 'commander';
import { EXIT } from './exit-codes.js';
import { buildProgram, registrarsFor } from './program.js';

try {
  await buildProgram(await registrarsFor(process.argv.slice(2))).parseAsync(process.argv);
} catch (error) {
  if (!(error instanceof CommanderError)) throw error;
  const benign = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code);
  process.exitCode = benign || error.exitCode === 0 ? EXIT.ok : EXIT.invalid_input;
}
