// The git branch a task's work lives on: `orch/<id>-<slug>`. The slug only ever holds lowercase ASCII
// letters, digits and single inner hyphens, so whatever a title contains (shell syntax, `..`, `@{`,
// control characters, emoji, right-to-left text) the name is a valid ref, never an option (`-x`) and
// never shell syntax. The id, not the slug, identifies the task: the slug is for people reading
// `git branch`.

export const BRANCH_PREFIX = 'orch/';
export const MAX_SLUG_LENGTH = 40;
const FALLBACK_SLUG = 'task';

/**
 * A slug cut at the length limit ends at a word boundary when one lies in the second half, so
 * "add-the-user-settings-page" does not become "add-the-user-settings-pa".
 */
const WORD_BOUNDARY_MINIMUM = MAX_SLUG_LENGTH / 2;

/** Characters Unicode classes as combining marks: the accents NFKD splits off their letters. */
const COMBINING_MARKS = /\p{M}+/gu;

/**
 * Lowercase ASCII letters and digits of the title, other runs turned into one `-`. Letters with
 * diacritics keep their base letter ("Café" → "cafe"); compatibility forms fold to theirs ("ﬁ" → "fi",
 * "①" → "1"). Lowercasing happens on both sides of the decomposition because each can produce what
 * the other must handle ("İ" lowercases to "i" plus a combining dot; "ℌ" decomposes to "H").
 */
export function slugify(title: string): string {
  const folded = title.toLowerCase().normalize('NFKD').replace(COMBINING_MARKS, '').toLowerCase();
  const slug = folded.replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return truncateSlug(slug) || FALLBACK_SLUG;
}

function truncateSlug(slug: string): string {
  if (slug.length <= MAX_SLUG_LENGTH) return slug;
  const cut = slug.slice(0, MAX_SLUG_LENGTH);
  const boundary = cut.lastIndexOf('-');
  return (boundary >= WORD_BOUNDARY_MINIMUM ? cut.slice(0, boundary) : cut).replace(/-+$/, '');
}

/** `orch/<id>-<slug>`: the branch a task's attempts work on (a retry continues on the same one). */
export function branchName(taskId: number, title: string): string {
  if (!Number.isSafeInteger(taskId) || taskId < 0) {
    throw new RangeError(`a task id is a whole number >= 0, got ${taskId}`);
  }
  return `${BRANCH_PREFIX}${taskId}-${slugify(title)}`;
}

/** The task id of an Orch branch name, or null for any other branch. */
export function taskIdOfBranch(branch: string): number | null {
  const match = /^orch\/(\d+)-/.exec(branch);
  if (!match) return null;
  const id = Number(match[1]);
  return Number.isSafeInteger(id) ? id : null;
}

/**
 * Whether `name` may be used as a branch name on git's command line: `refs/heads/<name>` passes
 * `git check-ref-format` (decided here, without starting git, by the rules its manual lists), and the
 * name neither starts with `-`, which git would read as an option, nor is `HEAD`.
 */
export function isValidBranchName(name: string): boolean {
  if (name.length === 0 || name.startsWith('-') || name === 'HEAD') return false;
  return isValidRefName(`refs/heads/${name}`);
}

/**
 * Space, the characters git gives a meaning in revisions and globs, and a lone surrogate, which cannot
 * reach git as the same name (git reads the name as UTF-8 bytes). Control characters are checked apart.
 */
const FORBIDDEN_REF_CHARACTERS = /[ ~^:?*[\\\uD800-\uDFFF]/u;

/** `git check-ref-format <ref>` without options: a full ref name git would store. */
export function isValidRefName(ref: string): boolean {
  if (FORBIDDEN_REF_CHARACTERS.test(ref) || hasControlCharacter(ref)) return false;
  if (ref === '@' || ref.includes('..') || ref.includes('@{') || ref.endsWith('.')) return false;
  const components = ref.split('/');
  // At least two components; no empty one (a leading, trailing or doubled slash).
  if (components.length < 2) return false;
  return components.every((component) => component !== '' && !component.startsWith('.') && !component.endsWith('.lock'));
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
