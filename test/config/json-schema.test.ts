import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_SCHEMA_FILE, PROJECT_SCHEMA_FILE, SCHEMA_DIR, jsonSchemaFiles } from '../../src/config/json-schema.js';

describe('committed JSON Schemas', () => {
  // On failure: `npm run build && npm run schema`, then commit schema/.
  it.each(Object.entries(jsonSchemaFiles()))('schema/%s matches the zod schemas', (name, fresh) => {
    expect(readFileSync(join(SCHEMA_DIR, name), 'utf8')).toBe(fresh);
  });

  it('describes strict mappings so editors flag misspelt keys', () => {
    const files = jsonSchemaFiles();
    const config = JSON.parse(files[CONFIG_SCHEMA_FILE] ?? '{}');
    const project = JSON.parse(files[PROJECT_SCHEMA_FILE] ?? '{}');
    expect(config.additionalProperties).toBe(false);
    expect(Object.keys(config.properties)).toEqual(['database_url', 'scheduler', 'server', 'agents', 'prices', 'routing', 'webhooks', 'notifications', 'defaults', 'projects']);
    expect(project.additionalProperties).toBe(false);
    expect(project.properties.max_agents).toMatchObject({ type: 'integer', minimum: 1 });
  });
});
