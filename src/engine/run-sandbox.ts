import { existsSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { AgentConfig, ProjectConfig } from '../config/schema.js';
import { OrchError } from '../core/errors.js';
import { modelEndpointsOf } from '../core/model-endpoints.js';
import { decideSandboxPolicy, describeSandboxPolicy, type NetworkMode } from '../core/sandbox-policy.js';
import { hostProgram, installDirOf, type SandboxFor, type SandboxPlan } from '../sandbox/launch.js';
import { probeSandbox } from '../sandbox/probe.js';
import type { Orch } from './context.js';

/** The operating system a sandboxed run reads: never written, always there. */
const SYSTEM_PATHS = ['/usr', '/etc', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/opt', '/run/systemd/resolve'];

export interface RunSandboxRequest {
  project: ProjectConfig;
  /** The worktree (or scratch checkout) the process works in. */
  cwd: string;
  /** The run's own HOME; null for hooks and judge commands, which write only their worktree. */
  runHome: string | null;
  /** HOMEs of earlier runs whose session this run continues. */
  sessionHomes?: string[];
  /** The run's folder in ORCH_HOME, for what the network needs. */
  runDir: string;
  /** Planner and reviewer: the worktree is read, never written. */
  readOnly: boolean;
  /** Programs the run starts (the agent CLI, a hook's program): their install dirs are mounted read-only. */
  programs: string[];
  network: NetworkMode;
  /** The agent whose model API `model-only` lets through; null for commands. */
  agent: AgentConfig | null;
  env: Record<string, string>;
}

/**
 * The sandbox plan of one process of a run, or null when the project runs without a sandbox
 * (`sandbox: off`). Throws when the sandbox is on and cannot run: the scheduler refuses to start such
 * a project's agents, so reaching this is a race with a bubblewrap removed in between.
 */
export function planRunSandbox(orch: Orch, request: RunSandboxRequest, sourceEnv: NodeJS.ProcessEnv = process.env): SandboxPlan | null {
  if (request.project.sandbox === 'off') return null;
  // Orch's own environment says where bubblewrap is; the agent's says whose home to hide.
  const probe = probeSandbox();
  if (!probe.ok) throw new OrchError('config', probe.reason);
  const git = gitEntries(request.cwd);
  const decision = decideSandboxPolicy({
    worktree: request.cwd,
    worktreeReadOnly: request.readOnly,
    gitWritable: git.writable,
    gitReadOnly: git.readOnly,
    runHome: request.runHome ?? join(request.runDir, 'sandbox-home'),
    sessionHomes: (request.sessionHomes ?? []).filter((home) => existsSync(home)),
    orchHome: orch.home,
    userHome: homeOf(sourceEnv),
    checkout: request.project.path,
    systemPaths: SYSTEM_PATHS,
    toolPaths: [nodeInstallDir(), ...request.programs.map((program) => installDirOf(hostProgram(program, request.cwd, request.env.PATH ?? ''))).filter(isAbsolute), ...request.project.sandboxPaths],
  });
  if (!decision.ok) throw new OrchError('config', `the sandbox cannot be set up: ${decision.reason}`);
  // A command's caches (npm's, pip's) go to a HOME of the run's own: the person's is hidden and read-only.
  const commandHome = request.runHome === null ? join(request.runDir, 'sandbox-home') : null;
  if (commandHome) mkdirSync(commandHome, { recursive: true, mode: 0o700 });
  return {
    bwrap: probe.bwrap,
    policy: decision.policy,
    ...(commandHome ? { env: { HOME: commandHome } } : {}),
    network: { mode: request.network, modelEndpoints: request.agent ? modelEndpointsOf(request.agent.kind, request.env, request.agent.model) : [], runDir: request.runDir },
  };
}

/**
 * Hooks and judge commands: writable worktree, no HOME of their own, no secrets. `after_create` prepares
 * a fresh checkout before any agent touched it (installing dependencies, typically), so it gets the
 * host's network; every other command runs code an agent may have written and gets no more network
 * than the project's agents — and no model API, which commands do not talk to.
 */
export function commandSandbox(orch: Orch, project: ProjectConfig, runDir: string, env: Record<string, string>, options: { trustedCheckout?: boolean } = {}): SandboxFor {
  const network: NetworkMode = options.trustedCheckout || project.network === 'full' ? 'full' : 'none';
  return (cwd, program) => planRunSandbox(orch, { project, cwd, runHome: null, runDir, readOnly: false, programs: [program], network, agent: null, env });
}

/**
 * The git directory entries a worktree uses: its own admin dir, the shared objects, its branch's
 * refs folder and the reflogs are written by a commit; the shared dir itself (config, hooks) only read.
 * A directory that is no git worktree has none.
 */
export function gitEntries(worktree: string): { writable: string[]; readOnly: string[] } {
  let admin: string;
  try {
    const pointer = readFileSync(join(worktree, '.git'), 'utf8').match(/^gitdir: (.+)$/m);
    if (!pointer) return { writable: [], readOnly: [] };
    admin = resolve(worktree, pointer[1]!.trim());
  } catch {
    return { writable: [], readOnly: [] };
  }
  let common = admin;
  try {
    common = resolve(admin, readFileSync(join(admin, 'commondir'), 'utf8').trim());
  } catch {
    // a worktree without commondir shares nothing
  }
  const writable = [admin, join(common, 'objects'), join(common, 'logs')];
  const head = safeRead(join(admin, 'HEAD')).match(/^ref: (refs\/heads\/.+)$/m);
  if (head) writable.push(join(common, dirname(head[1]!.trim())));
  // Mount points must exist: git makes these on a first commit, and cannot inside a read-only parent.
  for (const dir of writable.slice(1)) mkdirSync(dir, { recursive: true });
  return { writable, readOnly: [common] };
}

const safeRead = (path: string) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
};

/** Where this Node is installed (`/usr`, `~/.nvm/versions/node/v20…`): agent CLIs run on it. */
function nodeInstallDir(): string {
  return dirname(dirname(realpathSync(process.execPath)));
}

function homeOf(env: NodeJS.ProcessEnv): string | null {
  const home = env.HOME || homedir();
  return home && isAbsolute(home) && existsSync(home) ? realpathOr(home) : null;
}

const realpathOr = (path: string) => {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
};

/** An agent run's plan: its worktree writable unless its role only reads, its HOME, its CLI's install dir. */
export function agentSandbox(orch: Orch, project: ProjectConfig, agent: AgentConfig, run: { cwd: string; runHome: string; runDir: string; readOnly: boolean; env: Record<string, string>; sessionHomes?: string[] }, sourceEnv?: NodeJS.ProcessEnv): SandboxPlan | null {
  return planRunSandbox(orch, { project, cwd: run.cwd, runHome: run.runHome, sessionHomes: run.sessionHomes ?? [], runDir: run.runDir, readOnly: run.readOnly, programs: [agent.command], network: project.network, agent, env: run.env }, sourceEnv);
}

/** What a run's record keeps of its sandbox: the network and every mount, in order. */
export function sandboxRecord(plan: SandboxPlan | null): Record<string, unknown> {
  if (plan === null) return { sandbox: 'off' };
  return { sandbox: 'on', network: plan.network.mode, mounts: describeSandboxPolicy(plan.policy) };
}
