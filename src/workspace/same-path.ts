import { realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** Paths compared after resolving symbolic links (git may report `/private/tmp` for `/tmp`). */
export function samePath(a: string, b: string): boolean {
  return canonical(a) === canonical(b);
}

function canonical(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    // Gone (a prunable worktree): resolve what can be resolved, its parent.
    try {
      return join(realpathSync(dirname(path)), basename(path));
    } catch {
      return resolve(path);
    }
  }
}
