// Orch's status note in a queue file, written beside what people write there. People edit the same
// files, so Orch never writes over an edit it did not read.

import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { chmod, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { errorCode, READ_FLAGS } from './queue-file-io.js';
import { withOrchNote } from './markdown-task.js';
import type { StatusReport } from './tracker.js';

/** Whether the file is still the one read: same inode, and not written since (size, mtime, ctime). */
function unchanged(before: Stats, now: Stats): boolean {
  return now.ino === before.ino && now.dev === before.dev && now.size === before.size && now.mtimeMs === before.mtimeMs && now.ctimeMs === before.ctimeMs;
}

/**
 * Puts the status note into the task file at `path` by writing a copy and renaming it over the file.
 * Returns false when the file changed between the read and the rename (a person's edit or move): the
 * caller reads it again. Gone, a link or not a regular file: nothing is written, and that is true.
 */
export async function writeStatusNote(path: string, status: StatusReport): Promise<boolean> {
  let before: Stats;
  let text: string;
  try {
    const handle = await open(path, READ_FLAGS);
    try {
      before = await handle.stat();
      // A note is never written through a link, nor into anything but a regular file.
      if (!before.isFile()) return true;
      text = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ELOOP') return true;
    throw error;
  }
  const updated = withOrchNote(text, {
    state: status.state,
    summary: status.summary,
    attempts: status.attempts,
    costUsd: status.costUsd,
    pullRequestUrl: status.pullRequestUrl,
  });
  if (updated === text) return true;

  const temp = join(dirname(path), `.${randomBytes(6).toString('hex')}.${process.pid}.tmp`);
  try {
    const handle = await open(temp, 'wx', before.mode & 0o7777);
    try {
      await handle.writeFile(updated, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    // The mode given to open is filtered by the umask; keep what the author's file had.
    await chmod(temp, before.mode & 0o7777);
    const now = await stat(path).catch((error: unknown) => {
      if (errorCode(error) === 'ENOENT') return null;
      throw error;
    });
    if (now === null || !unchanged(before, now)) return false;
    await rename(temp, path);
    return true;
  } finally {
    await rm(temp, { force: true });
  }
}

