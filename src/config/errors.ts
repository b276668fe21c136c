// Turns every way a config file can be wrong into ONE line: `<file>: <key path>: <what was expected>`.
// The CLI prints that line as is, so it must name the file, point at the key and say what would be valid.
// The words for a schema's issues are core/schema-messages.ts, shared with job specs; this file
// stays free of zod, since every command loads it.

import type { YAMLError } from 'yaml';

export { formatKeyPath } from '../core/key-paths.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    /** The file at fault (config.yaml or an orch.yaml). */
    readonly file: string,
    /** What is wrong, without the file name. */
    readonly detail: string,
  ) {
    super(`${file}: ${toOneLine(detail)}`);
  }
}

/** A YAML syntax error → `line 3, column 5: <yaml's first line, without its own position suffix>`. */
export function yamlErrorDetail(error: YAMLError): string {
  const reason = lowerFirst((error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, ''));
  const position = error.linePos?.[0];
  return position ? `line ${position.line}, column ${position.col}: ${reason}` : reason;
}

export function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function toOneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
