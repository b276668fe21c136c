import { accessSync, constants, chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * Counts the git processes this test process starts: a `git` script placed first on PATH appends
 * one line per start (`git <args>`) to a log, then runs the real git. Processes git starts itself
 * (fetch's upload-pack, auto maintenance) are not counted: git puts its own directory first on PATH.
 * Other lines can be written to the same log (`mark`, or a script appending to `log`) to cut it into
 * the parts of a test.
 */
export interface GitCounter {
  /** The log file. */
  log: string;
  /** Every line logged so far (git starts and marks). */
  lines(): string[];
  /** The arguments of each git start logged so far, up to the first line equal to `until` when given. */
  calls(until?: string): string[];
  /** The git command of each start (`ls-remote`, `worktree add`, …), options before it left out. */
  commands(until?: string): string[];
  mark(text: string): void;
  reset(): void;
  /** Puts PATH back. */
  restore(): void;
}

export function countGitStarts(dir: string): GitCounter {
  const bin = join(dir, 'git-counter');
  mkdirSync(bin, { recursive: true });
  const log = join(bin, 'starts.log');
  const realGit = findOnPath('git', process.env.PATH ?? '');
  const script = join(bin, 'git');
  writeFileSync(script, `#!/bin/sh\nprintf 'git %s\\n' "$*" >> '${log}'\nexec '${realGit}' "$@"\n`);
  chmodSync(script, 0o755);
  writeFileSync(log, '');
  const previousPath = process.env.PATH;
  process.env.PATH = `${bin}${delimiter}${previousPath ?? ''}`;

  const lines = () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []);
  const calls = (until?: string) => {
    const all = lines();
    const end = until === undefined ? -1 : all.indexOf(until);
    return (end === -1 ? all : all.slice(0, end)).filter((line) => line.startsWith('git ')).map((line) => line.slice(4));
  };
  return {
    log,
    lines,
    calls,
    commands: (until) => calls(until).map(commandOf),
    mark: (text) => writeFileSync(log, `${text}\n`, { flag: 'a' }),
    reset: () => writeFileSync(log, ''),
    restore: () => {
      process.env.PATH = previousPath;
    },
  };
}

/** `-c protocol.ext.allow=never ls-remote -- …` → `ls-remote`; `worktree add …` → `worktree add`. */
function commandOf(args: string): string {
  const words = args.split(' ');
  let i = 0;
  // git's own options come before the command: `-c <setting>`, `-C <dir>`, `--git-dir=<dir>`, …
  while (words[i]?.startsWith('-')) i += words[i] === '-c' || words[i] === '-C' ? 2 : 1;
  const command = words[i] ?? '';
  return command === 'worktree' ? `${command} ${words[i + 1] ?? ''}` : command;
}

function findOnPath(name: string, path: string): string {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here; the next directory.
    }
  }
  throw new Error(`${name} is not on PATH`);
}
