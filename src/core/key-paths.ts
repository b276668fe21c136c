// Naming a value and where it sits in a parsed file, for one-line errors. Kept apart from the zod
// messages (schema-messages.ts) so that code which only names a key does not load zod.

/** `['projects', 'web', 'agents', 1]` → `projects.web.agents[1]`; odd keys are quoted: `prices["gpt 5"]`. */
export function formatKeyPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (/^[\w-]+$/.test(String(segment))) text += text ? `.${String(segment)}` : String(segment);
    else text += `[${JSON.stringify(String(segment))}]`;
  }
  return text;
}

/** A value as the user wrote it in YAML, short enough for one line. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}
