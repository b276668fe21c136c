import { readFileSync } from 'node:fs';

/** A file's text, or null when it does not exist (any other failure is thrown). */
export function readTextOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
