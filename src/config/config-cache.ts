// The checked config files, kept in ORCH_HOME/config-cache.json by their text. Parsing YAML and checking
// it with zod is most of what an `orch` command would spend on its config: loading the two libraries
// and building the schema cost several times the parse itself. So a command reads its files, and only
// when one's text differs from what the cache holds does it load the parser. Keyed by the whole text
// rather than a file's mtime and size, so an edit within one timestamp tick cannot go unseen.

import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROJECT_FILE_NAME, configPath, projectRepoPath, readOptionalFile } from './home.js';
import { resolveConfig, type LoadedProjectFile } from './resolve.js';
import type { GlobalConfigFile, OrchConfig, ProjectFile } from './schema.js';

export const CONFIG_CACHE_FILE = 'config-cache.json';

const CACHE_FORMAT = 1;

/** A file as it was checked: its text and the data the schema made of it. */
interface CheckedFile {
  path: string;
  text: string;
  data: unknown;
}

interface CacheContents {
  format: number;
  /** The build that checked the files: another build may check them otherwise. */
  build: string;
  files: CheckedFile[];
}

type Checker = (kind: 'global' | 'project', path: string, text: string) => unknown;

/**
 * Like load.ts's loadConfig (same result, same errors), but a file whose text the cache holds is not
 * parsed again. A missing, unreadable or stale cache only means parsing; a cache that cannot be written
 * only means parsing next time too. Invalid files are never cached, so their error shows every time.
 */
export async function loadConfigCached(home: string): Promise<OrchConfig> {
  const cached = readCache(home);
  const checked: CheckedFile[] = [];
  let checker: Checker | undefined;
  const check = async (kind: 'global' | 'project', path: string): Promise<unknown> => {
    const text = readOptionalFile(path);
    if (text === undefined) return undefined;
    const hit = cached.get(path);
    let data: unknown;
    if (hit !== undefined && hit.text === text) data = hit.data;
    else data = (checker ??= await loadChecker())(kind, path, text);
    checked.push({ path, text, data });
    return data;
  };

  const globalPath = configPath(home);
  const global = ((await check('global', globalPath)) ?? {}) as GlobalConfigFile;
  const projectFiles: Record<string, LoadedProjectFile | undefined> = {};
  for (const [name, entry] of Object.entries(global.projects ?? {})) {
    const path = join(projectRepoPath(home, name, entry.path), PROJECT_FILE_NAME);
    const data = (await check('project', path)) as ProjectFile | undefined;
    projectFiles[name] = data === undefined ? undefined : { path, data };
  }
  if (checker !== undefined) await writeCache(home, checked);
  return resolveConfig({ home, path: globalPath, data: global }, projectFiles);
}

async function loadChecker(): Promise<Checker> {
  const [{ parseConfigText }, { globalConfigFileSchema, projectFileSchema }] = await Promise.all([import('./load.js'), import('./schema.js')]);
  return (kind, path, text) => parseConfigText<unknown>(path, text, kind === 'global' ? globalConfigFileSchema : projectFileSchema);
}

function readCache(home: string): Map<string, CheckedFile> {
  const files = new Map<string, CheckedFile>();
  try {
    const contents = JSON.parse(readFileSync(join(home, CONFIG_CACHE_FILE), 'utf8')) as Partial<CacheContents> | null;
    if (contents?.format !== CACHE_FORMAT || contents.build !== buildStamp() || !Array.isArray(contents.files)) return files;
    for (const file of contents.files as unknown[]) {
      if (!isCheckedFile(file)) return new Map();
      files.set(file.path, file);
    }
  } catch {
    // No cache yet, or one that is not ours to read: the files are parsed.
  }
  return files;
}

function isCheckedFile(value: unknown): value is CheckedFile {
  if (typeof value !== 'object' || value === null) return false;
  const file = value as Record<string, unknown>;
  return typeof file.path === 'string' && typeof file.text === 'string' && typeof file.data === 'object' && file.data !== null;
}

async function writeCache(home: string, files: CheckedFile[]): Promise<void> {
  const contents: CacheContents = { format: CACHE_FORMAT, build: buildStamp(), files };
  try {
    // Loaded here, with node:crypto for its temporary names: a command that finds its cache skips both.
    const { writeFileAtomic } = await import('./atomic-write.js');
    // Private, like config.yaml itself: a database URL in it may carry a password.
    writeFileAtomic(join(home, CONFIG_CACHE_FILE), JSON.stringify(contents), 0o600);
  } catch {
    // A read-only home (a sandbox) keeps no cache; the next command parses again.
  }
}

/** The bundled CLI's build (scripts/bundle-cli.mjs names it in both of its bundles); unset in tsc's build. */
declare const ORCH_BUILD_ID: string | undefined;

let stamp: string | undefined;

/**
 * This build of Orch: the bundle's build id, else the size and time of this file. A rebuilt or
 * upgraded Orch checks afresh; the everyday commands' bundle and the rest of the CLI, two files with
 * one build id, share the cache.
 */
function buildStamp(): string {
  if (stamp === undefined) {
    if (typeof ORCH_BUILD_ID === 'string') return (stamp = `build:${ORCH_BUILD_ID}`);
    const self = fileURLToPath(import.meta.url);
    const stat = statSync(self);
    stamp = `${self}:${stat.size}:${stat.mtimeMs}`;
  }
  return stamp;
}
