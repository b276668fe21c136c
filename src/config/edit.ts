// Changes to config.yaml made by Orch itself (`orch init`, `orch add`, `orch remove`). The file is
// the user's: edits go through yaml's Document model so their comments, order and layout survive,
// the result is validated before anything is written, and writes are atomic.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, parseDocument, YAMLMap, type Document } from 'yaml';
import { createFileAtomic, writeFileAtomic } from './atomic-write.js';
import { configErrorMap, formatIssues } from '../core/schema-messages.js';
import { ConfigError, formatKeyPath, yamlErrorDetail } from './errors.js';
import { CONFIG_SCHEMA_FILE, SCHEMA_DIR } from './json-schema.js';
import { configPath } from './load.js';
import { globalConfigFileSchema, nameSchema, projectEntrySchema, type ProjectEntryFile } from './schema.js';
import { starterConfigText } from './starter.js';

export { getConfigValue } from './get-value.js';

/** Write the commented starter config.yaml unless one exists. Returns whether it wrote. */
export function writeInitialConfig(home: string): boolean {
  // ORCH_HOME holds agent logs and the database; other users have no business reading them.
  mkdirSync(home, { recursive: true, mode: 0o700 });
  return createFileAtomic(configPath(home), starterConfigText(join(SCHEMA_DIR, CONFIG_SCHEMA_FILE)), 0o600);
}

/** Register a project under `projects.<name>`. Throws ConfigError if it exists or is invalid. */
export function addProjectToConfig(home: string, name: string, entry: ProjectEntryFile): void {
  const path = configPath(home);
  const nameCheck = nameSchema.safeParse(name, { error: configErrorMap });
  if (!nameCheck.success) throw new ConfigError(path, formatIssues(nameCheck.error.issues, ['projects', name]));
  const entryCheck = projectEntrySchema.safeParse(entry, { error: configErrorMap });
  if (!entryCheck.success) throw new ConfigError(path, formatIssues(entryCheck.error.issues, ['projects', name]));

  writeInitialConfig(home);
  const document = readDocument(path);
  if (document.hasIn(['projects', name])) {
    throw new ConfigError(path, `${formatKeyPath(['projects', name])}: a project of that name already exists`);
  }
  const projects = blockMapAt(document, 'projects');
  projects.set(name, document.createNode(entryCheck.data));
  saveDocument(path, document);
}

/** Remove `projects.<name>`. Returns false if there was no such project. */
export function removeProjectFromConfig(home: string, name: string): boolean {
  const path = configPath(home);
  if (!existsSync(path)) return false;
  const document = readDocument(path);
  if (!document.hasIn(['projects', name])) return false;
  document.deleteIn(['projects', name]);
  const projects = document.get('projects', true);
  // An empty block mapping would print as a dangling "{}" on its own line.
  if (isMap(projects) && projects.items.length === 0) projects.flow = true;
  saveDocument(path, document);
  return true;
}

function readDocument(path: string): Document {
  const document = parseDocument(readFileSync(path, 'utf8'));
  const syntaxError = document.errors[0];
  if (syntaxError) throw new ConfigError(path, yamlErrorDetail(syntaxError));
  return document;
}

/** The mapping at a top-level key, created if absent or empty, and in block style so entries read well. */
function blockMapAt(document: Document, key: string): YAMLMap {
  const existing = document.get(key, true);
  if (isMap(existing)) {
    if (existing.flow && existing.comment) {
      // "projects: {}  # none yet": keep the note above the entries rather than below them.
      existing.commentBefore = existing.comment;
      existing.comment = undefined;
    }
    existing.flow = false;
    return existing;
  }
  const created = new YAMLMap();
  document.set(key, created);
  return created;
}

/** Validate the edited document as the loader would, then replace the file atomically. */
function saveDocument(path: string, document: Document): void {
  const result = globalConfigFileSchema.safeParse(document.toJS() ?? {}, { error: configErrorMap });
  if (!result.success) throw new ConfigError(path, formatIssues(result.error.issues));
  writeFileAtomic(path, document.toString());
}
