import { execFile } from 'node:child_process';

/**
 * Variables a git hook sets for the commands it runs. Inherited by Orch (started from a hook, or from
 * inside a repository's tooling), they would point every git call below at that other repository.
 */
const REPOSITORY_OVERRIDES = [
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_INDEX_FILE',
  'GIT_OBJECT_DIRECTORY',
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_COMMON_DIR',
  'GIT_NAMESPACE',
  'GIT_PREFIX',
];

/** The environment Orch runs git with: its own, minus repository overrides, never prompting. */
export function gitEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of REPOSITORY_OVERRIDES) delete env[name];
  // A remote asking for a password must fail at once: nobody is at a terminal to answer it.
  env.GIT_TERMINAL_PROMPT = '0';
  return { ...env, ...extra };
}

export interface GitOptions {
  /** Kill git after this long (network operations). Default: no limit. */
  timeoutMs?: number;
  env?: Record<string, string>;
  /** Written to git's stdin (closed at once without it). */
  input?: string;
  /** Most bytes of output kept; more fails the command. Default 16 MiB. */
  maxBuffer?: number;
}

export interface GitOutcome {
  ok: boolean;
  /** null when git was killed (time limit) or could not start. */
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

export class GitError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    const detail = stderr.trim().split('\n').filter(Boolean).slice(-3).join(' / ') || `exit code ${exitCode}`;
    super(`git ${args.join(' ')} failed: ${detail}`);
    this.name = 'GitError';
  }
}

/** Starts git commands somewhere other than this process (see git-launcher.ts); null: here. */
export interface GitRunner {
  run(cwd: string, args: string[], options: GitOptions): Promise<GitOutcome>;
}

let runner: GitRunner | null = null;

/** Where git commands start from now on: `launcher`, or this process (null). */
export function useGitRunner(launcher: GitRunner | null): void {
  runner = launcher;
}

/** Runs git with an argument vector (never through a shell); a failure is an outcome, not a throw. */
export function tryGit(cwd: string, args: string[], options: GitOptions = {}): Promise<GitOutcome> {
  return runner ? runner.run(cwd, args, options) : runGitHere(cwd, args, options);
}

/** tryGit, started from this process. */
export function runGitHere(cwd: string, args: string[], options: GitOptions = {}): Promise<GitOutcome> {
  return new Promise((resolve) => {
    const child = execFile(
      'git',
      args,
      { cwd, env: gitEnvironment(options.env), maxBuffer: options.maxBuffer ?? 16 * 1024 * 1024, timeout: options.timeoutMs ?? 0, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const exitCode = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        const spawnFailure = error !== null && typeof error.code === 'string' ? `${error.message}\n` : '';
        resolve({ ok: error === null, exitCode, stdout, stderr: spawnFailure + stderr });
      },
    );
    // git exiting before it read everything must not become an unhandled EPIPE: its exit code tells.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input);
  });
}

/** Runs git with an argument vector (never through a shell) and returns its trimmed stdout. */
export async function git(cwd: string, args: string[], options: GitOptions = {}): Promise<string> {
  const outcome = await tryGit(cwd, args, options);
  if (!outcome.ok) throw new GitError(args, outcome.exitCode, outcome.stderr);
  return outcome.stdout.trim();
}

/** The top of the git work tree that contains `dir`, or null when `dir` is not inside one. */
export async function repositoryRoot(dir: string): Promise<string | null> {
  try {
    return await git(dir, ['rev-parse', '--show-toplevel']);
  } catch {
    return null;
  }
}

/**
 * The branch Orch should merge into: the remote's HEAD when there is one, else the branch checked
 * out now, else `main`.
 */
export async function defaultBranch(repo: string): Promise<string> {
  for (const args of [
    ['symbolic-ref', '--quiet', '--short', 'refs/remotes/origin/HEAD'],
    ['symbolic-ref', '--quiet', '--short', 'HEAD'],
  ]) {
    try {
      const ref = await git(repo, args);
      if (ref) return ref.replace(/^origin\//, '');
    } catch {
      // Not set in this repository; try the next source.
    }
  }
  return 'main';
}

/** Whether the repository has a commit checked out: a fresh `git init` has none, and nothing can branch from it. */
export async function hasCommits(repo: string): Promise<boolean> {
  return (await tryGit(repo, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'])).ok;
}

/** Whether `branch` exists in the repository, as a local branch or as one of `origin`. */
export async function branchExists(repo: string, branch: string): Promise<boolean> {
  for (const ref of [`refs/heads/${branch}`, `refs/remotes/origin/${branch}`]) {
    if ((await tryGit(repo, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`])).ok) return true;
  }
  return false;
}

/** The URL of the `origin` remote, or null. */
export async function originUrl(repo: string): Promise<string | null> {
  try {
    return (await git(repo, ['remote', 'get-url', 'origin'])) || null;
  } catch {
    return null;
  }
}
