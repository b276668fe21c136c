// Config files are replaced whole or not at all: a crash or a full disk mid-write must never leave a
// half-written config.yaml for the daemon to choke on.

import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  fsyncSync,
  linkSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Write `content` to a temporary file beside `path`, flush it, then rename it over `path`: a reader sees
 * the old file or the new one, never a part. `mode` when given, else the replaced file's permissions.
 */
export function writeFileAtomic(path: string, content: string, mode?: number): void {
  const temp = writeTempFile(path, content, mode ?? existingMode(path));
  try {
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/**
 * Like writeFileAtomic, but only if `path` does not exist yet; returns whether it wrote. A hard link
 * fails when the target exists, so two concurrent callers cannot both "create" the file.
 */
export function createFileAtomic(path: string, content: string, mode?: number): boolean {
  const temp = writeTempFile(path, content, mode);
  try {
    linkSync(temp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    rmSync(temp, { force: true });
  }
}

function writeTempFile(path: string, content: string, mode: number | undefined): string {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', 0o644);
  try {
    writeFileSync(fd, content);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  // Keep the permissions the user gave the file they are replacing.
  if (mode !== undefined) chmodSync(temp, mode);
  return temp;
}

function existingMode(path: string): number | undefined {
  try {
    return statSync(path).mode & 0o7777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
