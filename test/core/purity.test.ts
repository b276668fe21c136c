// The core's purity is the compiler's and the linter's to enforce (src/core/tsconfig.json, eslint.config.js);
// this checks that the lint rule itself says what it should, so it cannot quietly stop refusing.

import { readdirSync, readFileSync } from 'node:fs';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const CORE = new URL('../../src/core/', import.meta.url);

/** The lines of `code` the import rule refuses (several patterns may refuse the same import). */
async function refusedLines(code: string): Promise<number[]> {
  const eslint = new ESLint({ cwd: new URL('../..', import.meta.url).pathname });
  const [result] = await eslint.lintText(code, { filePath: 'src/core/purity-probe.ts' });
  const lines = (result?.messages ?? []).filter((message) => message.ruleId === 'no-restricted-imports').map((message) => message.line);
  return [...new Set(lines)];
}

describe('the pure core', () => {
  it('imports only files of src/core/ and zod', () => {
    const imports = readdirSync(CORE)
      .filter((name) => name.endsWith('.ts'))
      .flatMap((name) => [...readFileSync(new URL(name, CORE), 'utf8').matchAll(/^(?:import|export)\b[^;]*?\bfrom '([^']+)'/gms)].map((match) => `${name}: ${match[1]}`));
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.filter((entry) => !/: (\.\/[\w.-]+\.js|zod)$/.test(entry))).toEqual([]);
  });

  it('is refused an import from config/, an outer layer, a path that climbs out, or another package', async () => {
    const refused = await refusedLines(
      [
        "import { lowerFirst } from '../config/errors.js';",
        "import { openStore } from '../store/sqlite/store.js';",
        "import { nameSchema } from './x/../../config/schema.js';",
        "import { parse } from 'yaml';",
        "import { readFileSync } from 'node:fs';",
        'export const used = [lowerFirst, openStore, nameSchema, parse, readFileSync];',
      ].join('\n'),
    );
    expect(refused).toEqual([1, 2, 3, 4, 5]);
  });

  it('may import its own files and zod', async () => {
    expect(await refusedLines("import { z } from 'zod';\nimport { ROLES } from './types.js';\nexport const used = [z, ROLES];")).toEqual([]);
  });
});
