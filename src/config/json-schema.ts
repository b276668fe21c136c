// JSON Schemas of the config files, for editors (completion, hover docs, red squiggles on typos).
// Generated from the zod schemas so they cannot disagree with what the loader accepts.

import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { globalConfigFileSchema, projectFileSchema } from './schema.js';

export const CONFIG_SCHEMA_FILE = 'config.schema.json';
export const PROJECT_SCHEMA_FILE = 'orch.schema.json';

/** `<package>/schema/`: the same place from `src/config/` (tests) and `dist/config/` (installed). */
export const SCHEMA_DIR = fileURLToPath(new URL('../../schema/', import.meta.url));

/** File name in `schema/` → its exact text. */
export function jsonSchemaFiles(): Record<string, string> {
  return {
    [CONFIG_SCHEMA_FILE]: render(globalConfigFileSchema),
    [PROJECT_SCHEMA_FILE]: render(projectFileSchema),
  };
}

function render(schema: z.ZodType): string {
  // Draft 7 is the newest draft that every YAML language server and IDE understands.
  const jsonSchema = z.toJSONSchema(schema, { target: 'draft-07', io: 'input' });
  return `${JSON.stringify(jsonSchema, null, 2)}\n`;
}
