import { realpathSync } from 'node:fs';
import { basename, join, sep } from 'node:path';
import { diskUsage } from '../workspace/disk-usage.js';
import { OrchError } from '../core/errors.js';
import type { HeldDelivery } from '../core/delivery.js';
import type { Project, ProjectMode, TaskState } from '../core/types.js';
import { isValidBranchName } from '../core/branch-name.js';
import { branchExists, defaultBranch, hasCommits, originUrl, repositoryRoot } from '../workspace/git.js';
import type { Orch } from './context.js';
import { heldDelivery } from './delivery.js';
import { spentToday } from './tick-input.js';

const PROJECT_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** A project name from a directory name: lowercase, plain characters, at most 64 of them. */
export function projectNameFor(dir: string): string {
  const name = basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 64);
  return name || 'project';
}

export interface AddProjectInput {
  /** Any directory inside the repository. */
  path: string;
  name?: string;
  defaultBranch?: string;
}

/**
 * Registers a git repository as a project: written to config.yaml (the portfolio) and to the store.
 * Orch never works in this checkout; it only reads where it is, its default branch and its remote.
 */
export async function addProject(orch: Orch, input: AddProjectInput): Promise<Project> {
  const root = await repositoryRoot(input.path);
  if (!root) throw new OrchError('invalid_input', `${input.path} is not inside a git repository: run \`git init\` there or pass the path of one`);
  const name = input.name ?? projectNameFor(root);
  if (!PROJECT_NAME.test(name)) {
    throw new OrchError('invalid_input', `project name "${name}" must be lowercase letters, digits, ".", "_" or "-" (pass --name)`);
  }
  const same = (await orch.store.listProjects()).find((p) => p.repoPath === root);
  if (same) throw new OrchError('conflict', `${root} is already registered as project "${same.name}"`);
  if (await orch.store.getProject(name)) throw new OrchError('conflict', `project "${name}" already exists (pass --name to choose another)`);
  if (input.defaultBranch !== undefined && !isValidBranchName(input.defaultBranch)) {
    throw new OrchError('invalid_input', `"${input.defaultBranch}" is not a valid branch name (pass the name of a branch, such as main)`);
  }
  // Every task branches from a commit: an empty repository would only fail at the first run.
  if (!(await hasCommits(root))) throw new OrchError('invalid_input', `${root} has no commits yet: commit something first (git commit --allow-empty -m "first commit")`);
  const branch = input.defaultBranch ?? (await defaultBranch(root));
  if (input.defaultBranch !== undefined && !(await branchExists(root, branch))) {
    throw new OrchError('invalid_input', `branch "${branch}" does not exist in ${root} (pass an existing branch, or leave --default-branch out)`);
  }
  const remote = await originUrl(root);
  // The config file first: if the store write then fails, the next start registers it from the file.
  // The editor (YAML, the schema) loads here only: the commands that merely read projects skip it.
  const { addProjectToConfig } = await import('../config/edit.js');
  addProjectToConfig(orch.home, name, { path: root, default_branch: branch, ...(remote ? { remote } : {}) });
  return orch.store.addProject({ name, repoPath: root, remoteUrl: remote, defaultBranch: branch }, orch.now());
}

async function requireProject(orch: Orch, name: string): Promise<Project> {
  const project = await orch.store.getProject(name);
  if (!project) throw new OrchError('not_found', `project "${name}" not found (see \`orch project list\`)`);
  return project;
}

/** Removes a project from the portfolio. Refused while it has live claims unless forced. */
export async function removeProject(orch: Orch, name: string, options: { force?: boolean } = {}): Promise<void> {
  await requireProject(orch, name);
  const claims = await orch.store.listClaims(name);
  if (claims.length > 0 && !options.force) {
    throw new OrchError('conflict', `project "${name}" has ${claims.length} running task(s): stop them first or pass --force`);
  }
  const { removeProjectFromConfig } = await import('../config/edit.js');
  removeProjectFromConfig(orch.home, name);
  await orch.store.removeProject(name, orch.now());
}

export async function setPaused(orch: Orch, name: string, paused: boolean, reason?: string): Promise<Project> {
  const project = await requireProject(orch, name);
  if (project.paused === paused) throw new OrchError('conflict', `project "${name}" is already ${paused ? 'paused' : 'running'}`);
  return orch.store.setProjectPaused(name, paused, paused ? (reason ?? 'paused by a person') : null, orch.now(), {
    type: paused ? 'project.paused' : 'project.resumed',
    data: paused ? { reason: reason ?? 'paused by a person' } : {},
  });
}

export interface ProjectStatus {
  project: Project;
  configured: boolean;
  tasks: Partial<Record<TaskState, number>>;
  mode: ProjectMode;
  running: number;
  claims: number;
  /** Pull workers of the project still looking for a task. */
  idleWorkers: number;
  spentTodayUsd: number;
  maxAgents: number | null;
  /** Bytes Orch keeps for the project: its clone and worktrees. */
  diskBytes: number;
  /** Merged commits waiting for the project's checkout (or remote), and why; null when none wait. */
  delivery: HeldDelivery | null;
}

export async function projectStatus(orch: Orch, name: string): Promise<ProjectStatus> {
  const project = await requireProject(orch, name);
  const settings = orch.config.projects[name];
  const spent = await spentToday(orch.store, orch.now(), name);
  const workers = await orch.store.listWorkers({ project: name, open: true });
  return {
    project,
    configured: settings !== undefined,
    tasks: await orch.store.countTasksByState(name),
    mode: settings?.mode ?? 'push',
    running: (await orch.store.listRuns({ project: name, open: true })).length,
    claims: (await orch.store.listClaims(name)).length,
    idleWorkers: workers.filter((w) => w.taskId === null).length,
    spentTodayUsd: spent.get(name) ?? 0,
    maxAgents: settings?.maxAgents ?? null,
    diskBytes: await diskUsage(join(orch.home, 'projects', name)),
    delivery: await heldDelivery(orch, name),
  };
}

/** The project a command means when none is named: the one whose repository holds `cwd`, or the only one. */
export async function projectForDirectory(orch: Orch, cwd: string, howToName = 'pass --project'): Promise<string> {
  const projects = await orch.store.listProjects();
  if (projects.length === 0) throw new OrchError('invalid_input', 'no project is registered: run `orch init` in a git repository or `orch project add <path>`');
  const here = await projectHolding(orch, cwd);
  if (here) return here;
  if (projects.length === 1) return projects[0]!.name;
  throw new OrchError('invalid_input', `several projects are registered (${projects.map((p) => p.name).join(', ')}): ${howToName}`);
}

/**
 * The project whose repository holds `cwd` (the innermost, when one project's repository sits inside
 * another's); null when none does. Read from the paths alone: asking git for the repository's top
 * would start a process on every `orch task add`.
 */
export async function projectHolding(orch: Orch, cwd: string): Promise<string | null> {
  const here = physicalPath(cwd);
  const holding = (await orch.store.listProjects())
    .flatMap((p) => (p.repoPath === null ? [] : [{ name: p.name, root: physicalPath(p.repoPath) }]))
    .filter(({ root }) => here === root || here.startsWith(root.endsWith(sep) ? root : `${root}${sep}`));
  return holding.sort((a, b) => b.root.length - a.root.length)[0]?.name ?? null;
}

/** `path` with symbolic links resolved, as git reports a repository's top; as given when it cannot be. */
function physicalPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
