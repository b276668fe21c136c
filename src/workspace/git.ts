import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Runs git with an argument vector (never through a shell) and returns its trimmed stdout. */
export async function git(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd, maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
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

/** The URL of the `origin` remote, or null. */
export async function originUrl(repo: string): Promise<string | null> {
  try {
    return (await git(repo, ['remote', 'get-url', 'origin'])) || null;
  } catch {
    return null;
  }
}
