// Script entry: `node dist/config/write-json-schema.js` (npm run schema) regenerates schema/*.json.
// A test compares the committed files with fresh output, so forgetting to run this fails the build.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCHEMA_DIR, jsonSchemaFiles } from './json-schema.js';

mkdirSync(SCHEMA_DIR, { recursive: true });
for (const [name, text] of Object.entries(jsonSchemaFiles())) {
  const path = join(SCHEMA_DIR, name);
  writeFileSync(path, text);
  console.log(`wrote ${path}`);
}
