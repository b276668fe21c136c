import { findExecutable } from './executables.js';

// Agents run below Orch's own priority: when 32 of them start at once on two cores, the daemon that
// reads their output, the git commands that make their worktrees and the dashboard still get a core
// at once instead of a thirty-second share of it (docs/BENCHMARKS.md, "agents at a lower priority").
// `nice` sets it before the CLI starts, so every process the CLI starts inherits it; lowered after the
// start, a sandbox's first child could already be running at the old priority.

let niceProgram: string | null | undefined;

/** Where `nice` is, found once on this process's PATH; null when it is nowhere. */
function nicePath(): string | null {
  niceProgram ??= findExecutable('nice');
  return niceProgram;
}

/**
 * The command and arguments that run `command` `nice` steps below this process's priority (0 or
 * undefined: as it is). Run as it is, too, when `nice` or the command cannot be found: a command that
 * is not there then fails to start as it always did, with its own name in the error.
 */
export function atLowerPriority(command: string, args: readonly string[], nice: number | undefined, env: NodeJS.ProcessEnv, cwd: string): [string, string[]] {
  if (!nice || nice <= 0) return [command, [...args]];
  const nicer = nicePath();
  if (!nicer || !findExecutable(command, env.PATH ?? '', cwd)) return [command, [...args]];
  return [nicer, ['-n', String(Math.min(19, Math.floor(nice))), '--', command, ...args]];
}
