// Where Orch keeps its files: ORCH_HOME, its config.yaml and each project's orch.yaml. Apart from the
// loader so that code which only needs a path does not load YAML and zod.

import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError } from './errors.js';

export const CONFIG_FILE_NAME = 'config.yaml';
export const PROJECT_FILE_NAME = 'orch.yaml';

/** `~` and `~/…` → the user's home directory; anything else made absolute. */
export function expandHome(path: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/')) return join(homedir(), path.slice(2));
  return resolve(path);
}

/** `$ORCH_HOME`, or `~/.orch`. */
export function orchHome(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.ORCH_HOME?.trim();
  return fromEnv ? expandHome(fromEnv) : join(homedir(), '.orch');
}

export function configPath(home: string): string {
  return join(home, CONFIG_FILE_NAME);
}

/**
 * The checkout whose orch.yaml a project reads: its `path` (the one the user edits), or for a
 * remote-only project Orch's own clone.
 */
export function projectRepoPath(home: string, name: string, path: string | undefined): string {
  return path === undefined ? join(home, 'projects', name, 'repo') : expandHome(path);
}

/** A config file's text, or undefined when there is none; unreadable is a ConfigError. */
export function readOptionalFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(path, `cannot read: ${(error as Error).message}`);
  }
}
