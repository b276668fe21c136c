// Values both the config files and the pure core's specs accept, defined once: a name (of a project,
// an agent, a job) and a command to run. config/schema.ts builds the files' schemas on them.

import { z } from 'zod';
import { expecting } from './schema-messages.js';

const nonEmptyString = () => expecting(z.string().min(1), 'a non-empty string');

/** Project and agent names become directory names and URL segments, so they stay lowercase and plain. */
export const nameSchema = expecting(
  z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/),
  'a name of lowercase letters, digits, ".", "_" or "-" starting with a letter or digit',
);

const argvSchema = expecting(z.array(nonEmptyString()).min(1), 'a non-empty list of strings');

/**
 * A command to run. An argv list runs the program directly; `{shell: "..."}` runs `sh -c`, and only
 * when the config asks for it, so quoting and globbing never surprise anyone.
 */
export const commandSchema = expecting(
  z.union([argvSchema, z.strictObject({ shell: nonEmptyString().describe('Script passed to `sh -c`.') })]),
  'a command: a list of strings (argv) or {shell: "..."}',
);
