import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Bytes a directory tree occupies on disk, as `du` counts them: allocated blocks rather than apparent
 * sizes, each hard-linked file once, symbolic links not followed. 0 when `dir` does not exist. Files
 * vanishing during the walk (an agent still working) are skipped.
 */
export async function diskUsage(dir: string): Promise<number> {
  const seen = new Set<string>();
  const pending = [dir];
  let bytes = 0;
  while (pending.length > 0) {
    const path = pending.pop()!;
    const stats = await lstat(path).catch(ignoreVanished);
    if (stats === null) continue;
    const inode = `${stats.dev}:${stats.ino}`;
    if (seen.has(inode)) continue;
    seen.add(inode);
    // Filesystems without block counts report 0 blocks; fall back to the apparent size there.
    bytes += stats.blocks > 0 ? stats.blocks * 512 : stats.size;
    if (stats.isDirectory()) {
      const names = (await readdir(path).catch(ignoreVanished)) ?? [];
      for (const name of names) pending.push(join(path, name));
    }
  }
  return bytes;
}

function ignoreVanished(error: NodeJS.ErrnoException): null {
  if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return null;
  throw error;
}
