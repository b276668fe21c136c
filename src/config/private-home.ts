// ORCH_HOME holds the API token, the database (task bodies, agents' output, costs) and every run's log
// and prompt: none of it is for other users of the machine. Directories are 0700 and files 0600 (an
// executable keeps its owner's x bit). Homes made by an older Orch, whose files others could read, are
// tightened once, at the first start that finds them so.
import { chmodSync, closeSync, lstatSync, mkdirSync, openSync, readdirSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

const OTHERS = 0o077;

/** The git clones and worktrees under it are the projects' code, not Orch's records: only the folder is closed. */
const NOT_WALKED = new Set(['projects']);

/**
 * Makes ORCH_HOME private: the folder itself, and the database (created empty with its mode if missing,
 * so SQLite, which gives its journal files the database's mode, never makes a readable one). When the
 * home or its database is open to others — a home from an older version — every file and folder in it
 * is tightened, once. `databaseFile` is null when the state lives in PostgreSQL.
 */
export function makeHomePrivate(home: string, databaseFile: string | null): void {
  mkdirSync(home, { recursive: true, mode: PRIVATE_DIR_MODE });
  // ORCH_HOME itself may be a link to the real folder: that folder is the one to close.
  const homeStat = statSync(home);
  const database = databaseFile === null ? null : statOrNull(databaseFile);
  if (databaseFile !== null && database === null) closeSync(openSync(databaseFile, 'a', PRIVATE_FILE_MODE));
  const openToOthers = (homeStat.mode & OTHERS) !== 0 || (database !== null && (database.mode & OTHERS) !== 0);
  if (!openToOthers) return;
  tighten(home, homeStat);
  for (const entry of readdirSync(home)) tightenTree(join(home, entry), NOT_WALKED.has(entry));
}

function tightenTree(path: string, onlyItself: boolean): void {
  const stat = lstatSync(path);
  // A link is not followed: what it points to is not Orch's to change.
  if (stat.isSymbolicLink()) return;
  tighten(path, stat);
  if (!stat.isDirectory() || onlyItself) return;
  for (const entry of readdirSync(path)) tightenTree(join(path, entry), false);
}

function tighten(path: string, stat: Stats): void {
  const mode = stat.mode & 0o7777;
  if ((mode & OTHERS) !== 0) chmodSync(path, mode & ~OTHERS);
}

function statOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
