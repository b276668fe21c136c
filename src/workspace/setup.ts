import { copyFile, lstat, mkdir, readdir, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { slotPorts, type PortPolicy } from '../core/ports.js';

// Preparing a fresh worktree: the untracked files a project lists (`copy_files`, e.g. `.env`) and the
// ports its run may use.
//
// `copy_files` can come from the repository's own orch.yaml, which agents edit. So a listed path may
// neither leave the repository (by `..`, an absolute path, or a symbolic link pointing out — else an
// agent could list a link to ~/.ssh and read it in the next worktree) nor write outside the worktree
// (through a symbolic link committed there). Links are never copied as links: the worktree gets the
// content, so nothing written in the worktree reaches the user's files.

export interface CopyNote {
  path: string;
  outcome: 'missing' | 'refused';
  reason: string;
}

export interface CopyReport {
  /** Files copied, relative to the repository root. */
  copied: string[];
  /** Paths left out, each with why. */
  skipped: CopyNote[];
}

/** Copies the listed files and directories (relative to `repoRoot`) into the same places in `worktree`. */
export async function copyUntrackedFiles(repoRoot: string, worktree: string, paths: readonly string[]): Promise<CopyReport> {
  const report: CopyReport = { copied: [], skipped: [] };
  const roots = { source: await realpath(repoRoot), target: await realpath(worktree) };
  for (const path of paths) {
    const problem = unsafeRelativePath(path);
    if (problem) report.skipped.push({ path, outcome: 'refused', reason: problem });
    else await copyEntry(roots, path, report);
  }
  return report;
}

/** Why a listed path may not be used, or null when it is a plain path inside the repository. */
function unsafeRelativePath(path: string): string | null {
  if (path.length === 0 || path.includes('\0')) return 'not a usable path';
  if (isAbsolute(path)) return 'an absolute path; paths are relative to the repository root';
  const segments = path.split(/[\\/]/).filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..')) return 'escapes the repository root';
  if (segments.length === 0) return 'names the repository root itself';
  if (segments[0] === '.git') return "inside git's own metadata";
  return null;
}

async function copyEntry(
  roots: { source: string; target: string },
  path: string,
  report: CopyReport,
): Promise<void> {
  const refuse = (reason: string) => report.skipped.push({ path, outcome: 'refused', reason });
  const source = join(roots.source, path);
  const link = await lstat(source).catch(() => null);
  if (link === null) {
    report.skipped.push({ path, outcome: 'missing', reason: 'not found in the repository' });
    return;
  }
  const resolved = await realpath(source).catch(() => null);
  if (resolved === null) return void refuse('a symbolic link to nothing');
  if (!isInside(roots.source, resolved)) return void refuse('resolves outside the repository');

  const target = await stat(resolved);
  if (target.isDirectory()) {
    // A linked directory could point at one of its own ancestors; only real directories are walked.
    if (link.isSymbolicLink()) return void refuse('a symbolic link to a directory');
    for (const name of (await readdir(source)).sort()) await copyEntry(roots, join(path, name), report);
    return;
  }
  if (!target.isFile()) return void refuse('not a regular file');

  const destination = await prepareDestination(roots.target, path);
  if (typeof destination !== 'string') return void refuse(destination.refused);
  await copyFile(resolved, destination);
  report.copied.push(path);
}

/**
 * The destination of `path` in the worktree with its parent directories made, or why it cannot be
 * written: a directory on the way, or the file itself, is a symbolic link (it could lead anywhere) or
 * not what it should be.
 */
async function prepareDestination(worktree: string, path: string): Promise<string | { refused: string }> {
  const segments = path.split(/[\\/]/).filter((segment) => segment !== '' && segment !== '.');
  let current = worktree;
  for (const segment of segments.slice(0, -1)) {
    current = join(current, segment);
    const existing = await lstat(current).catch(() => null);
    if (existing === null) await mkdir(current);
    else if (existing.isSymbolicLink()) return { refused: 'the worktree has a symbolic link on the way' };
    else if (!existing.isDirectory()) return { refused: 'the worktree has a file where a directory belongs' };
  }
  const destination = join(current, segments.at(-1)!);
  const existing = await lstat(destination).catch(() => null);
  if (existing?.isSymbolicLink()) return { refused: 'the worktree has a symbolic link at this path' };
  if (existing?.isDirectory()) return { refused: 'the worktree has a directory at this path' };
  return destination;
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

/**
 * The environment that hands a run its ports: `PORT` (the first), `PORT_1` … `PORT_<n-1>` (the rest),
 * `ORCH_PORTS` (all, comma-separated) and `ORCH_SLOT`.
 */
export function slotEnvironment(slot: number, policy: PortPolicy): Record<string, string> {
  const ports = slotPorts(slot, policy);
  const env: Record<string, string> = { ORCH_SLOT: String(slot), ORCH_PORTS: ports.join(',') };
  ports.forEach((port, index) => {
    env[index === 0 ? 'PORT' : `PORT_${index}`] = String(port);
  });
  return env;
}
