import { existsSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';

/**
 * What a program of Orch's own (a worker's `orch`, a run's MCP server) needs to read inside its sandbox: the package each file of its command line
 * belongs to (the build, package.json) and that package's dependencies, wherever they really are.
 */
export function orchInstallPaths(cli: readonly string[]): string[] {
  const paths: string[] = [];
  for (const arg of cli.slice(1)) {
    if (!isAbsolute(arg) || !existsSync(arg)) continue;
    let dir = dirname(realpathSync(arg));
    while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
    if (!existsSync(join(dir, 'package.json'))) continue;
    paths.push(dir);
    const dependencies = join(dir, 'node_modules');
    if (existsSync(dependencies)) paths.push(realpathSync(dependencies));
  }
  return [...new Set(paths)];
}
