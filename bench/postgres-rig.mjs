// The test rig's throwaway PostgreSQL cluster (test/rig/postgres.ts) for benchmarks: the same code,
// compiled into dist/bench/ on first use (the build leaves test/ out), so benchmarks and tests start
// their clusters one way.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Starts a cluster in a fresh temp dir; `destroy()` it when done. */
export async function startRigCluster() {
  const source = join(ROOT, 'test/rig/postgres.ts');
  // Under dist/, so that `pg` resolves from the repository's node_modules.
  const compiled = join(ROOT, 'dist/bench/postgres-rig.mjs');
  if (!existsSync(compiled) || statSync(compiled).mtimeMs < statSync(source).mtimeMs) {
    const ts = (await import('typescript')).default;
    const output = ts.transpileModule(readFileSync(source, 'utf8'), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
    mkdirSync(dirname(compiled), { recursive: true });
    writeFileSync(compiled, output.outputText);
  }
  const { startPostgres } = await import(pathToFileURL(compiled).href);
  return startPostgres();
}
