// Input checks shared by the routes. A refusal is an OrchError('invalid_input') whose message names
// the field, e.g. `title: expected a non-empty string`, so the caller knows what to fix.

import type { Context } from 'hono';
import { z } from 'zod';
import { OrchError } from '../core/errors.js';

/** A zod `error` option: "required" for a missing field, otherwise what was expected. */
export const expected = (what: string) => ({
  error: (issue: { input?: unknown }) => (issue.input === undefined ? 'required' : `expected ${what}`),
});

export const nonEmptyString = z.string(expected('a non-empty string')).trim().min(1, { error: 'expected a non-empty string' });
export const positiveId = z
  .number(expected('a positive whole number'))
  .int({ error: 'expected a positive whole number' })
  .positive({ error: 'expected a positive whole number' });

/** `labels[0].name` from a zod path. */
function fieldName(path: readonly PropertyKey[], root: string): string {
  if (path.length === 0) return root;
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`)).join('');
}

/** One line that names every field that is wrong and what is wrong with it. */
export function describeIssues(error: z.ZodError, root: string): string {
  return error.issues
    .map((issue) => {
      if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => `${fieldName([...issue.path, key], root)}: unknown field`).join('; ');
      if (issue.path.length === 0 && issue.code === 'invalid_type') return `${root}: expected a JSON object`;
      return `${fieldName(issue.path, root)}: ${issue.message}`;
    })
    .join('; ');
}

export function parseWith<S extends z.ZodType>(schema: S, input: unknown, root: string): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new OrchError('invalid_input', describeIssues(result.error, root));
  return result.data;
}

/** The request's JSON body checked against `schema`; an empty body counts as `{}`. */
export async function readJsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const text = await c.req.text();
  let body: unknown = {};
  if (text.trim() !== '') {
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw new OrchError('invalid_input', `request body: malformed JSON (${(error as Error).message})`);
    }
  }
  return parseWith(schema, body, 'request body');
}

const WHOLE_NUMBER = /^\d{1,15}$/;

/** A path or query parameter that must be a whole number of at least `min`. */
export function wholeNumber(value: string, name: string, min = 1): number {
  const number = WHOLE_NUMBER.test(value) ? Number(value) : Number.NaN;
  if (!(number >= min)) throw new OrchError('invalid_input', `${name}: expected a whole number of at least ${min}, got "${value}"`);
  return number;
}

/** An optional whole-number query parameter. */
export function optionalWholeNumber(c: Context, name: string, min = 1): number | undefined {
  const value = c.req.query(name);
  return value === undefined || value === '' ? undefined : wholeNumber(value, name, min);
}

/** An optional yes/no query parameter: `1`/`true` or `0`/`false`; absent is false. */
export function optionalFlag(c: Context, name: string): boolean {
  const value = c.req.query(name);
  if (value === undefined || value === '' || value === '0' || value === 'false') return false;
  if (value === '1' || value === 'true') return true;
  throw new OrchError('invalid_input', `${name}: expected 1, true, 0 or false, got "${value}"`);
}

/** A comma-separated query parameter whose items must each be one of `allowed`. */
export function optionalList<T extends string>(c: Context, name: string, allowed: readonly T[]): T[] | undefined {
  const value = c.req.query(name);
  if (value === undefined || value === '') return undefined;
  const items = value.split(',').map((item) => item.trim()).filter((item) => item !== '');
  for (const item of items) {
    if (!allowed.includes(item as T)) throw new OrchError('invalid_input', `${name}: unknown value "${item}" (use ${allowed.join(', ')})`);
  }
  return items as T[];
}

/** `?limit=`: lists are in id order (oldest first), and a limit keeps the first rows. */
export function listLimit(c: Context): number | undefined {
  return optionalWholeNumber(c, 'limit');
}

/** The most ids one `?ids=` names: what a page asks for after a burst of changes. */
const MAX_IDS = 500;

/** `?ids=1,2,3`: task ids, each a whole number of at least 1. */
export function optionalIds(c: Context): number[] | undefined {
  const value = c.req.query('ids');
  if (value === undefined || value === '') return undefined;
  const ids = value.split(',').map((item) => wholeNumber(item.trim(), 'ids'));
  if (ids.length > MAX_IDS) throw new OrchError('invalid_input', `ids: expected at most ${MAX_IDS} ids, got ${ids.length}`);
  return ids;
}
