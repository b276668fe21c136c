// What an agent run's sandbox lets it see and touch, decided from the paths involved. The sandbox
// adapter (sandbox/bwrap.ts) mounts the list in order; a later mount on a path covers whatever earlier
// mounts put at or below it, so the order is part of the decision. Everything not mounted does not
// exist inside the sandbox.

/** How much network a sandboxed run gets (sandbox/sandbox.ts says what each means). */
export const NETWORK_MODES = ['model-only', 'full', 'none'] as const;
export type NetworkMode = (typeof NETWORK_MODES)[number];

/** Whether Orch's sandbox is used for a project's runs. */
export const SANDBOX_SWITCHES = ['on', 'off'] as const;
export type SandboxSwitch = (typeof SANDBOX_SWITCHES)[number];

/**
 * - `read-only`: the host path, visible, every write refused.
 * - `writable`: the host path, visible and writable: writes reach the host.
 * - `hidden`: an empty, read-only directory in place of the host path.
 * - `scratch`: an empty, writable directory private to the run (its /tmp); gone when the run ends.
 */
export type SandboxAccess = 'read-only' | 'writable' | 'hidden' | 'scratch';

export interface SandboxMount {
  path: string;
  access: SandboxAccess;
}

export interface SandboxPathsInput {
  /** The task's worktree: where the run works. */
  worktree: string;
  /** Planner and reviewer runs only read: their worktree and git entries are mounted read-only. */
  worktreeReadOnly: boolean;
  /** The git directory entries a commit in the worktree writes (its admin dir, objects, its branch's refs). */
  gitWritable: string[];
  /** The git directory the worktree shares (config, hooks, HEAD): read, never written. */
  gitReadOnly: string[];
  /** The run's own HOME / config directory. */
  runHome: string;
  /**
   * HOMEs of the earlier runs whose session this run continues: a resumed CLI finds its session by the
   * absolute paths it recorded there (Codex does). Writable, as the run's own.
   */
  sessionHomes?: string[];
  /** Orch's home: database, API token, every run and worktree. Hidden but for what the run needs. */
  orchHome: string;
  /** The person's home directory. */
  userHome: string | null;
  /** The person's own checkout of the project. */
  checkout: string | null;
  /** The operating system: /usr, /etc, /bin, /lib … */
  systemPaths: string[];
  /** Toolchains the run needs: Node's install dir, the agent CLI's, the project's configured extra paths. */
  toolPaths: string[];
}

export interface SandboxPolicy {
  mounts: SandboxMount[];
}

/** A policy, or why the paths given allow none (a worktree inside the checkout, say). */
export type SandboxDecision = { ok: true; policy: SandboxPolicy } | { ok: false; reason: string };

/** Private, empty and writable in every sandbox. */
export const SCRATCH_PATHS: readonly string[] = ['/tmp', '/var/tmp'];

/** An absolute path with `.`, `..`, repeated and trailing slashes resolved; the input must be absolute. */
export function normalPath(path: string): string {
  if (!path.startsWith('/')) throw new RangeError(`a sandbox path must be absolute, got "${path}"`);
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

/** Whether `path` is `ancestor` or lies below it. */
export function isWithin(path: string, ancestor: string): boolean {
  const p = normalPath(path);
  const a = normalPath(ancestor);
  return a === '/' || p === a || p.startsWith(`${a}/`);
}

const unique = (paths: readonly string[]) => [...new Set(paths.map(normalPath))];

/**
 * The mounts of one run, in the order they are made:
 * 1. the system, read-only;
 * 2. the private scratch directories;
 * 3. toolchains, read-only — except those inside a hidden place, which wait for step 5;
 * 4. the hidden places: the person's home, ORCH_HOME, the checkout;
 * 5. toolchains inside the person's home (a Node installed by nvm, say), read-only again — never one
 *    inside ORCH_HOME or the checkout, and ORCH_HOME and the checkout are hidden once more if such a
 *    toolchain contains them;
 * 6. the git directory the worktree shares, read-only;
 * 7. last, so nothing covers them: the git entries a commit writes, the HOMEs of the runs whose
 *    session it continues, the run's HOME, the worktree.
 */
export function decideSandboxPolicy(input: SandboxPathsInput): SandboxDecision {
  const secrets = unique([input.orchHome, ...(input.checkout ? [input.checkout] : [])]);
  const hidden = unique([...(input.userHome ? [input.userHome] : []), ...secrets]);
  // A toolchain that is the root, or holds a secret without being inside a hidden place, would need
  // re-hiding anyway: kept, since step 4 comes after it.
  const tools = unique(input.toolPaths).filter((path) => !input.systemPaths.some((system) => isWithin(path, system)));
  const insideHidden = (path: string) => hidden.some((place) => isWithin(path, place));
  const insideSecret = (path: string) => secrets.some((place) => isWithin(path, place));
  const revealed = tools.filter((path) => insideHidden(path) && !insideSecret(path));
  const reHidden = secrets.filter((secret) => revealed.some((tool) => isWithin(secret, tool)));
  const worktreeAccess: SandboxAccess = input.worktreeReadOnly ? 'read-only' : 'writable';
  const sessionHomes = input.sessionHomes ?? [];
  const written = unique([...input.gitWritable, ...sessionHomes, input.runHome, input.worktree]);
  for (const path of written) {
    if (input.checkout && (isWithin(path, input.checkout) || isWithin(input.checkout, path))) {
      return { ok: false, reason: `${path} overlaps the project's checkout ${input.checkout}: a run may never write there` };
    }
    const covered = hidden.find((place) => isWithin(place, path));
    if (covered) return { ok: false, reason: `${path} contains ${covered}, which a run may not see` };
  }
  const mounts: SandboxMount[] = [
    ...unique(input.systemPaths).map((path) => ({ path, access: 'read-only' as const })),
    ...SCRATCH_PATHS.map((path) => ({ path, access: 'scratch' as const })),
    ...tools.filter((path) => !insideHidden(path)).map((path) => ({ path, access: 'read-only' as const })),
    ...hidden.map((path) => ({ path, access: 'hidden' as const })),
    ...revealed.map((path) => ({ path, access: 'read-only' as const })),
    ...reHidden.map((path) => ({ path, access: 'hidden' as const })),
    ...unique(input.gitReadOnly).map((path) => ({ path, access: 'read-only' as const })),
    ...unique(input.gitWritable).map((path) => ({ path, access: worktreeAccess })),
    ...unique(sessionHomes).map((path) => ({ path, access: 'writable' as const })),
    { path: normalPath(input.runHome), access: 'writable' },
    { path: normalPath(input.worktree), access: worktreeAccess },
  ];
  return { ok: true, policy: { mounts } };
}

/**
 * What a run sees at `path` under the policy: the last mount at or above it decides (a later mount
 * covers earlier ones below it). `absent` when no mount reaches it: the path does not exist inside.
 */
export function accessAt(policy: SandboxPolicy, path: string): SandboxAccess | 'absent' {
  let access: SandboxAccess | 'absent' = 'absent';
  for (const mount of policy.mounts) if (isWithin(path, mount.path)) access = mount.access;
  return access;
}

/** One line per mount, as a run's record keeps it. */
export function describeSandboxPolicy(policy: SandboxPolicy): string[] {
  return policy.mounts.map((mount) => `${mount.access} ${mount.path}`);
}
