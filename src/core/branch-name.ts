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
