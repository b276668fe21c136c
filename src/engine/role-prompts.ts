import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ToolPolicy } from '../agents/agent.js';
import type { ProjectConfig } from '../config/schema.js';
import { OrchError } from '../core/errors.js';
import { normaliseTemplate, TEMPLATE_OF_ROLE, TOOL_MODE_OF_ROLE, type RoleTemplateName } from '../core/roles.js';
import type { Role } from '../core/types.js';

/** Orch's own templates, shipped with the package (`prompts/` beside `dist/` and `src/`). */
export const SHIPPED_PROMPTS_DIR = fileURLToPath(new URL('../../prompts/', import.meta.url));

/** Where a repository keeps its own templates, relative to its root. */
export const REPOSITORY_PROMPTS_DIR = join('.orch', 'prompts');

export interface RoleTemplate {
  name: RoleTemplateName;
  text: string;
  /** The file it came from, for prompt.md and error messages. */
  source: string;
}

/**
 * The template of a role for a project, first found of: the `prompts.<name>` setting (relative to the
 * repository, or absolute), the repository's `.orch/prompts/<name>.md`, Orch's own. `repoDir` is the
 * checkout the agent works in (a worktree of Orch's clone), so a template travels with the code it
 * was written for. A file the setting names must exist; a malformed one is a configuration error.
 */
export function loadRoleTemplate(role: Role, project: Pick<ProjectConfig, 'name' | 'prompts'>, repoDir: string | null): RoleTemplate {
  const name = TEMPLATE_OF_ROLE[role];
  const configured = project.prompts[name];
  if (configured !== undefined) {
    if (!isAbsolute(configured) && repoDir === null) throw new OrchError('config', `project ${project.name}: prompts.${name} is relative but there is no checkout to read it from`);
    const path = isAbsolute(configured) ? configured : join(repoDir!, configured);
    if (!existsSync(path)) throw new OrchError('config', `project ${project.name}: prompts.${name} names ${path}, which does not exist`);
    return readTemplate(name, path, `project ${project.name}: prompts.${name}`);
  }
  const ownPath = repoDir === null ? null : join(repoDir, REPOSITORY_PROMPTS_DIR, `${name}.md`);
  if (ownPath !== null && existsSync(ownPath)) return readTemplate(name, ownPath, `project ${project.name}: ${join(REPOSITORY_PROMPTS_DIR, `${name}.md`)}`);
  return readTemplate(name, join(SHIPPED_PROMPTS_DIR, `${name}.md`), `Orch's ${name} template`);
}

function readTemplate(name: RoleTemplateName, path: string, what: string): RoleTemplate {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (error) {
    throw new OrchError('config', `${what}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const checked = normaliseTemplate(raw);
  if (!checked.ok) throw new OrchError('config', `${what} (${path}): ${checked.reason}`);
  return { name, text: checked.text, source: path };
}

/** The permissions a role's run starts with (see core/roles.ts for why each role gets what). */
export function toolPolicyFor(role: Role): ToolPolicy {
  return { mode: TOOL_MODE_OF_ROLE[role], allowedTools: [], deniedTools: [], writableDirs: [] };
}
