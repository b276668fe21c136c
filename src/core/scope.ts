// The scope check: which files a change may touch. The project's rules (a file limit, globs a change
// must stay inside, globs it must never touch) and the task's role (a test task writes tests only, a
// review task writes nothing) are both judged from the list of changed paths alone.

import type { Role } from './types.js';

/** A project's scope limits (`judge.scope` in config). */
export interface ScopeRules {
  /** A change may touch at most this many files; null: no limit. */
  maxFiles: number | null;
  /** Every changed file must match one of these globs; null: anywhere. */
  allowedPaths: readonly string[] | null;
  /** No changed file may match any of these globs. */
  forbiddenPaths: readonly string[];
}

export const NO_SCOPE_RULES: ScopeRules = { maxFiles: null, allowedPaths: null, forbiddenPaths: [] };

/** How many offending paths a violation names before it says "and N more". */
const PATHS_NAMED = 5;

/**
 * Every way the change breaks its scope, one line each (empty when it keeps to it). Paths are
 * repository-relative with `/` separators, as git prints them. Each rule yields at most one line,
 * naming its first offending paths in sorted order, so the result does not depend on input order.
 */
export function checkScope(changedFiles: readonly string[], rules: ScopeRules, role: Role): string[] {
  const files = [...new Set(changedFiles.map(normalizePath))].sort();
  const violations: string[] = [];
  const report = (offending: readonly string[], what: string) => {
    if (offending.length > 0) violations.push(`${countFiles(offending.length)} ${what}: ${namePaths(offending)}`);
  };

  if (role === 'review') report(files, 'changed, but a review task may change nothing');
  if (role === 'test') report(files.filter((file) => !isTestPath(file)), 'outside test files, but a test task may only change tests');
  if (rules.maxFiles !== null && files.length > rules.maxFiles) {
    violations.push(`${countFiles(files.length)} changed, more than the limit of ${rules.maxFiles} (judge.scope.max_files)`);
  }
  const allowed = rules.allowedPaths;
  if (allowed !== null) {
    report(files.filter((file) => !allowed.some((glob) => matchesGlob(file, glob))), 'outside judge.scope.allowed_paths');
  }
  report(files.filter((file) => rules.forbiddenPaths.some((glob) => matchesGlob(file, glob))), 'in judge.scope.forbidden_paths');
  return violations;
}

/** Directory names whose contents count as tests, at any depth (monorepos keep one per package). */
const TEST_DIRECTORIES = new Set(['test', 'tests', '__tests__']);
/** `x.test.ts`, `x.spec.js`, `x_test.go`, and pytest's `test_x.py`. */
const TEST_FILE_NAME = /(\.(test|spec)\.[^/]+|_test\.[^/]+|^test_[^/]+\.[^/]+)$/;

/** Whether a path is a test file: inside a test directory, or named like one. */
export function isTestPath(path: string): boolean {
  const segments = normalizePath(path).split('/');
  const name = segments.pop() ?? '';
  return segments.some((segment) => TEST_DIRECTORIES.has(segment)) || TEST_FILE_NAME.test(name);
}

/**
 * Whether a repository path matches a glob, with picomatch's meaning of the common syntax:
 * `*` any characters but `/`; `?` one character but `/`; `**` as a whole segment any number of
 * segments, including none (`a/**` matches `a` too); `{x,y}` alternatives (nestable). Everything else is
 * literal. Unlike picomatch's default, wildcards also match dotfiles: a forbidden `**` that silently
 * skipped `.github/` or `.env` would be a hole. The whole path must match, so `*.md` means top-level files
 * only; put a `**` segment in front of it for any depth.
 */
export function matchesGlob(path: string, glob: string): boolean {
  return globToRegExp(glob).test(normalizePath(path));
}

const compiledGlobs = new Map<string, RegExp>();

function globToRegExp(glob: string): RegExp {
  let compiled = compiledGlobs.get(glob);
  if (compiled === undefined) {
    compiled = new RegExp(`^${translateGlob(normalizePath(glob))}$`, 's');
    compiledGlobs.set(glob, compiled);
  }
  return compiled;
}

/** Regular-expression source for a glob (see matchesGlob). */
function translateGlob(glob: string): string {
  let source = '';
  let i = 0;
  while (i < glob.length) {
    const char = glob[i]!;
    if (char === '*') {
      let end = i;
      while (glob[end] === '*') end++;
      const wholeSegment = end - i >= 2 && (i === 0 || glob[i - 1] === '/') && (end === glob.length || glob[end] === '/');
      if (!wholeSegment) {
        source += '[^/]*';
      } else if (end === glob.length) {
        // `a/**` also matches `a` itself: the slash before a trailing `**` is optional.
        source = source.endsWith('/') ? `${source.slice(0, -1)}(?:/.*)?` : `${source}.*`;
      } else {
        source += '(?:[^/]*/)*';
        end++; // the `/` after `**` is part of the repeated group
      }
      i = end;
    } else if (char === '?') {
      source += '[^/]';
      i++;
    } else if (char === '{') {
      const close = matchingBrace(glob, i);
      if (close === -1) {
        source += '\\{';
        i++;
      } else {
        source += `(?:${splitAlternatives(glob.slice(i + 1, close)).map(translateGlob).join('|')})`;
        i = close + 1;
      }
    } else {
      source += char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      i++;
    }
  }
  return source;
}

/** Index of the `}` closing the `{` at `open`, or -1. */
function matchingBrace(glob: string, open: number): number {
  let depth = 0;
  for (let i = open; i < glob.length; i++) {
    if (glob[i] === '{') depth++;
    else if (glob[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

/** `a,{b,c},d` → [`a`, `{b,c}`, `d`]: commas inside nested braces stay. */
function splitAlternatives(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '{') depth++;
    else if (body[i] === '}') depth--;
    else if (body[i] === ',' && depth === 0) {
      parts.push(body.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(body.slice(start));
  return parts;
}

/** `./a/b` → `a/b`: globs and paths compare in git's spelling (which never starts with `./`). */
function normalizePath(path: string): string {
  return path.replace(/^(\.\/)+/, '');
}

function countFiles(count: number): string {
  return count === 1 ? '1 file' : `${count} files`;
}

function namePaths(paths: readonly string[]): string {
  const named = paths.slice(0, PATHS_NAMED).join(', ');
  return paths.length > PATHS_NAMED ? `${named} and ${paths.length - PATHS_NAMED} more` : named;
}
