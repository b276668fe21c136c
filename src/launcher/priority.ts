import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

// Agents run below Orch's own priority: when 32 of them start at once on two cores, the daemon that
// reads their output, the git commands that make their worktrees and the dashboard still get a core
// at once instead of a thirty-second share of it (docs/BENCHMARKS.md, "agents at a lower priority").
// `nice` sets it before the CLI starts, so every process the CLI starts inherits it; lowered after the
// start, a sandbox's first child could already be running at the old priority.

let niceProgram: string | null | undefined;

/** Where `nice` is, found once on this process's PATH; null when it is nowhere. */
function nicePath(): string | null {
  niceProgram ??= executableOnPath('nice', process.env.PATH) ?? null;
  return niceProgram;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function executableOnPath(command: string, path: string | undefined): string | undefined {
  if (command.includes('/')) return isAbsolute(command) && isExecutable(command) ? command : undefined;
  return (path ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, command))
    .find(isExecutable);
}

/**
 * The command and arguments that run `command` `nice` steps below this process's priority (0 or
 * undefined: as it is). Run as it is, too, when `nice` or the command cannot be found: a command that
 * is not there then fails to start as it always did, with its own name in the error.
 */
export function atLowerPriority(command: string, args: readonly string[], nice: number | undefined, env: NodeJS.ProcessEnv, cwd: string): [string, string[]] {
  if (!nice || nice <= 0) return [command, [...args]];
  const nicer = nicePath();
  const found = command.includes('/') && !isAbsolute(command) ? (isExecutable(join(cwd, command)) ? command : undefined) : executableOnPath(command, env.PATH);
  if (!nicer || !found) return [command, [...args]];
  return [nicer, ['-n', String(Math.min(19, Math.floor(nice))), '--', command, ...args]];
}
