import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A Unix socket's path must fit in sun_path (108 bytes on Linux, with its NUL). */
const MAX_SOCKET_PATH = 100;

/**
 * Where a socket handed into a sandbox lives: in `dir` (the run's own folder) when the path fits, else
 * in a fresh private folder under the system's temporary directory (a deep ORCH_HOME). Either way it is
 * bound into the sandbox at the same path. `cleanup` removes the private folder, if one was made.
 */
export function socketPathIn(dir: string, file: string): { path: string; cleanup: () => void } {
  const inDir = join(dir, file);
  if (inDir.length <= MAX_SOCKET_PATH) return { path: inDir, cleanup: () => undefined };
  const scratch = mkdtempSync(join(tmpdir(), 'orch-sock-'));
  return { path: join(scratch, file), cleanup: () => rmSync(scratch, { recursive: true, force: true }) };
}
