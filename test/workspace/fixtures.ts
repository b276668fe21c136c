import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync, readlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { git } from '../helpers/git.js';

/**
 * Every file, directory and symbolic link under `root` (`.git` included) with a hash of its content
 * and its mode: two equal snapshots mean nothing in the tree was written.
 */
export function snapshotTree(root: string, skip: (path: string) => boolean = () => false): Map<string, string> {
  const snapshot = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const rel = relative(root, path);
      if (skip(rel)) continue;
      const stats = lstatSync(path);
      if (stats.isDirectory()) {
        snapshot.set(rel, `dir ${stats.mode}`);
        walk(path);
      } else if (stats.isSymbolicLink()) {
        snapshot.set(rel, `link ${readlinkSync(path)}`);
      } else {
        snapshot.set(rel, `file ${stats.mode} ${createHash('sha256').update(readFileSync(path)).digest('hex')}`);
      }
    }
  };
  walk(root);
  return snapshot;
}

/** Writes a file and commits it; returns the new commit. */
export function commitFile(repo: string, path: string, content: string, message = `write ${path}`): string {
  mkdirSync(dirname(join(repo, path)), { recursive: true });
  writeFileSync(join(repo, path), content);
  git(repo, ['add', '--', path]);
  git(repo, ['commit', '-q', '-m', message]);
  return git(repo, ['rev-parse', 'HEAD']);
}

/** Whether a process runs (a zombie, killed but not yet reaped, does not count). */
export function processRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export async function eventually(check: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return check();
}
