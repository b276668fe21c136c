// Zod issues in the words of a person editing a file or a command line, one line per value: what a
// schema accepts ("an integer >= 1"), the key path at fault, "expected X, got Y", and the nearest
// known key for a typo. Config files, job specs and anything else Orch parses with zod share it.

import { z } from 'zod';
import { describeValue, formatKeyPath } from './key-paths.js';

export { describeValue, formatKeyPath };

/**
 * What a schema accepts, in words ("an integer >= 1"). Zod's own messages speak of JavaScript types;
 * a person editing YAML needs the rule of the key. Registered on the schema, inherited by its
 * `.describe()` / `.meta()` clones, read back by `configErrorMap`.
 */
const expectations = z.registry<{ expected: string }>();

export function expecting<T extends z.ZodType>(schema: T, expected: string): T {
  expectations.add(schema, { expected });
  return schema;
}

/** Pass as `{ error: configErrorMap }` to `safeParse` so issues read as "expected X, got Y". */
export const configErrorMap: z.core.$ZodErrorMap = (issue) => {
  const expected = issue.schema ? expectations.get(issue.schema)?.expected : undefined;
  const got = describeValue(issue.input);
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return `missing (expected ${expected ?? describeType(issue.expected)})`;
      return `expected ${expected ?? describeType(issue.expected)}, got ${got}`;
    case 'too_small':
    case 'too_big':
    case 'invalid_format':
    case 'not_multiple_of':
      return `expected ${expected ?? describeBound(issue)}, got ${got}`;
    case 'invalid_value':
      return `expected ${expected ?? oneOf(issue.values)}, got ${got}`;
    case 'invalid_union':
      if (issue.discriminator !== undefined && Array.isArray(issue.options)) {
        // The issue sits at the discriminator key but carries the whole mapping as its input.
        const discriminatorValue = (issue.input as Record<string, unknown> | undefined)?.[issue.discriminator];
        if (discriminatorValue === undefined) return `missing (expected ${oneOf(issue.options)})`;
        return `expected ${oneOf(issue.options)}, got ${describeValue(discriminatorValue)}`;
      }
      return `expected ${expected ?? 'one of the allowed forms'}, got ${got}`;
    case 'unrecognized_keys':
      return unknownKeysMessage(issue.keys, knownKeysOf(issue.inst));
    case 'custom':
      return expected ? `expected ${expected}, got ${got}` : undefined;
    default:
      return undefined;
  }
};

/** Enough to fix several typos in one go, few enough to stay readable on one line. */
const MAX_ISSUES_SHOWN = 3;

/** Zod issues → one line, issues joined with "; ". `parentPath` locates the parsed value in its file. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], parentPath: readonly PropertyKey[] = []): string {
  const lines = issues.map((issue) => describeIssue(issue, parentPath));
  const shown = lines.slice(0, MAX_ISSUES_SHOWN).join('; ');
  return lines.length > MAX_ISSUES_SHOWN ? `${shown}; and ${lines.length - MAX_ISSUES_SHOWN} more` : shown;
}

function describeIssue(issue: z.core.$ZodIssue, parentPath: readonly PropertyKey[]): string {
  let path = [...parentPath, ...issue.path];
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    // The option the value came closest to matching is the one whose issues sit deepest inside it.
    const nearest = nearestUnionOption(issue.errors);
    if (nearest) return describeIssue(nearest, path);
  }
  if (issue.code === 'invalid_key' && issue.issues[0]) {
    return withPath(path, issue.issues[0].message);
  }
  if (issue.code === 'unrecognized_keys' && issue.keys.length === 1) path = [...path, ...issue.keys];
  return withPath(path, issue.message);
}

function nearestUnionOption(options: readonly z.core.$ZodIssue[][]): z.core.$ZodIssue | undefined {
  let nearest: z.core.$ZodIssue | undefined;
  for (const optionIssues of options) {
    const first = optionIssues[0];
    if (first && first.path.length > 0 && (!nearest || first.path.length > nearest.path.length)) nearest = first;
  }
  return nearest;
}

function withPath(path: readonly PropertyKey[], message: string): string {
  return path.length > 0 ? `${formatKeyPath(path)}: ${message}` : message;
}

function describeType(expected: string): string {
  switch (expected) {
    case 'object':
    case 'record':
      return 'a mapping';
    case 'array':
      return 'a list';
    case 'int':
      return 'an integer';
    case 'boolean':
      return 'true or false';
    case 'null':
      return 'null';
    default:
      return `a ${expected}`;
  }
}

function describeBound(issue: z.core.$ZodRawIssue): string {
  if (issue.code === 'too_small' || issue.code === 'too_big') {
    const limit = String(issue.code === 'too_small' ? issue.minimum : issue.maximum);
    const sign = issue.code === 'too_small' ? (issue.inclusive ? '>=' : '>') : issue.inclusive ? '<=' : '<';
    if (issue.origin === 'array') return `a list with ${sign} ${limit} items`;
    if (issue.origin === 'string') return `a string of ${sign} ${limit} characters`;
    return `a number ${sign} ${limit}`;
  }
  if (issue.code === 'invalid_format' && issue.pattern) return `a string matching ${issue.pattern}`;
  if (issue.code === 'not_multiple_of') return `a multiple of ${issue.divisor}`;
  return 'a valid value';
}

function oneOf(values: readonly unknown[]): string {
  const quoted = values.map((value) => JSON.stringify(value));
  return quoted.length === 1 ? (quoted[0] ?? '') : `one of ${quoted.join(', ')}`;
}

function knownKeysOf(schema: unknown): string[] {
  const def = (schema as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def;
  return def?.shape ? Object.keys(def.shape) : [];
}

function unknownKeysMessage(keys: readonly string[], known: readonly string[]): string {
  const allowed = known.length > 0 ? ` (allowed: ${known.join(', ')})` : '';
  if (keys.length !== 1) return `unknown keys ${keys.map((key) => JSON.stringify(key)).join(', ')}${allowed}`;
  const suggestion = closestKey(keys[0] ?? '', known);
  return suggestion ? `unknown key (did you mean "${suggestion}"?)` : `unknown key${allowed}`;
}

/** The known key a typo most likely meant, if any is close enough to be a plausible typo. */
function closestKey(typed: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(typed.length / 3)) + 1;
  for (const candidate of known) {
    const distance = editDistance(typed.toLowerCase(), candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
