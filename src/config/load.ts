// Reading config files from disk. A missing file is not an error (its defaults apply); anything
// unreadable, malformed or invalid is a ConfigError whose message is one line naming file and key.

import { join } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { configErrorMap, formatIssues } from '../core/schema-messages.js';
import { ConfigError, lowerFirst, yamlErrorDetail } from './errors.js';
import { CONFIG_FILE_NAME, PROJECT_FILE_NAME, configPath, orchHome, projectRepoPath, readOptionalFile } from './home.js';
import { resolveConfig, type LoadedGlobalConfig, type LoadedProjectFile } from './resolve.js';
import { globalConfigFileSchema, projectFileSchema, type OrchConfig } from './schema.js';

export { resolveProjectSettings, type LoadedGlobalConfig, type LoadedProjectFile } from './resolve.js';
export { CONFIG_FILE_NAME, PROJECT_FILE_NAME, configPath, orchHome };

export function loadGlobalConfig(home: string): LoadedGlobalConfig {
  const path = configPath(home);
  const text = readOptionalFile(path);
  const data = text === undefined ? {} : parseConfigText(path, text, globalConfigFileSchema);
  return { home, path, data };
}

/** The repository's orch.yaml, or undefined when it has none. */
export function loadProjectFile(repoPath: string): LoadedProjectFile | undefined {
  const path = join(repoPath, PROJECT_FILE_NAME);
  const text = readOptionalFile(path);
  return text === undefined ? undefined : { path, data: parseConfigText(path, text, projectFileSchema) };
}

/**
 * config.yaml plus every project's orch.yaml, resolved. A project's orch.yaml is read from its
 * `path` (the checkout the user edits), or for a remote-only project from Orch's own clone.
 */
export function loadConfig(home: string): OrchConfig {
  const global = loadGlobalConfig(home);
  const projectFiles: Record<string, LoadedProjectFile | undefined> = {};
  for (const [name, entry] of Object.entries(global.data.projects ?? {})) {
    projectFiles[name] = loadProjectFile(projectRepoPath(home, name, entry.path));
  }
  return resolveConfig(global, projectFiles);
}

/** YAML text → validated data. `file` is only used to name the culprit in errors. */
export function parseConfigText<T>(file: string, text: string, schema: z.ZodType<T>): T {
  const document = parseDocument(text);
  const syntaxError = document.errors[0];
  if (syntaxError) throw new ConfigError(file, yamlErrorDetail(syntaxError));
  let data: unknown;
  try {
    data = document.toJS();
  } catch (error) {
    // e.g. an alias to an anchor that does not exist, or an alias bomb.
    throw new ConfigError(file, lowerFirst(error instanceof Error ? error.message : String(error)));
  }
  // An empty or comments-only file holds no settings, which is valid.
  // jitless: a file is checked once per process, where compiling zod's generated fast path costs more
  // than it saves (every `orch` command pays it at start).
  const result = schema.safeParse(data ?? {}, { error: configErrorMap, jitless: true });
  if (!result.success) throw new ConfigError(file, formatIssues(result.error.issues));
  return result.data;
}
