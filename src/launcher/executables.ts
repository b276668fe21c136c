import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

/**
 * The executable's full path, looked up on PATH like a shell would (a name with a slash taken as it
 * is, from `cwd` when relative); null when absent.
 */
export function findExecutable(command: string, pathVariable = process.env.PATH ?? '', cwd = process.cwd()): string | null {
  const candidates = command.includes('/') ? [isAbsolute(command) ? command : resolve(cwd, command)] : pathVariable.split(delimiter).filter(Boolean).map((dir) => join(dir, command));
  return candidates.find(isExecutable) ?? null;
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
