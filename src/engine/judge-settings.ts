// What the judge runs comes from the repository Orch works in: config.yaml with the orch.yaml
// committed at the base the change is judged against. Orch's config reads a project's orch.yaml from
// the person's checkout, whose working copy may hold edits nobody committed; and the branch's own
// orch.yaml is the agent's to change. Neither may change what a change has to pass.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadGlobalConfig, parseConfigText, PROJECT_FILE_NAME, resolveProjectSettings, type LoadedProjectFile } from '../config/load.js';
import { projectFileSchema, type ProjectConfig, type ProjectSettings } from '../config/schema.js';
import { tryGit } from '../workspace/git.js';
import type { Orch } from './context.js';

export type JudgeSettings = ProjectSettings['judge'];

/**
 * The project's judge settings with the orch.yaml committed at `baseSha` (read in `worktree`, a
 * checkout of Orch's clone). An invalid committed orch.yaml throws its ConfigError, naming the commit.
 */
export async function judgeSettingsAt(orch: Orch, project: ProjectConfig, worktree: string, baseSha: string): Promise<JudgeSettings> {
  const committed = await committedProjectFile(worktree, baseSha);
  // Orch's config was resolved with the checkout's orch.yaml: when that is the committed one (or
  // neither exists), its judge settings are the committed ones already.
  if (committed === workingCopyProjectFile(project)) return project.judge;
  let file: LoadedProjectFile | undefined;
  if (committed !== undefined) {
    const label = `${PROJECT_FILE_NAME} at commit ${baseSha.slice(0, 12)}`;
    file = { path: label, data: parseConfigText(label, committed, projectFileSchema) };
  }
  return resolveProjectSettings(loadGlobalConfig(orch.home), project.name, file).judge;
}

/** The text of orch.yaml at `commit`, or undefined when the commit has none. */
async function committedProjectFile(worktree: string, commit: string): Promise<string | undefined> {
  const spec = `${commit}:${PROJECT_FILE_NAME}`;
  if (!(await tryGit(worktree, ['cat-file', '-e', spec])).ok) return undefined;
  const blob = await tryGit(worktree, ['cat-file', 'blob', spec]);
  if (!blob.ok) throw new Error(`cannot read ${PROJECT_FILE_NAME} at commit ${commit.slice(0, 12)}: ${blob.stderr.trim()}`);
  return blob.stdout;
}

/** The orch.yaml Orch's config reads for the project, as it is now; undefined when there is none. */
function workingCopyProjectFile(project: ProjectConfig): string | undefined {
  const path = project.projectFile ?? (project.path ? join(project.path, PROJECT_FILE_NAME) : null);
  if (path === null) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
