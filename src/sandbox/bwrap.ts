import { existsSync } from 'node:fs';
import type { SandboxPolicy } from '../core/sandbox-policy.js';

export interface BwrapOptions {
  policy: SandboxPolicy;
  /** The working directory inside (the worktree, or wherever the command runs). */
  cwd: string;
  /** An empty network namespace of the sandbox's own. */
  unshareNet: boolean;
  /** Host paths bound read-write at the same place (the network's sockets). */
  binds: string[];
  /** Host paths bound read-only at the same place (the network's relay script). */
  readOnlyBinds?: string[];
}

/**
 * bubblewrap's options for a policy: new mount, PID, IPC, UTS (and cgroup, where it can) namespaces,
 * the sandbox dying with Orch, then the policy's mounts in its order. The program runs as the
 * namespace's first process, so when it ends the kernel kills every process left inside, `setsid`
 * children included. bwrap is started in a session of its own (spawned detached), which already keeps
 * the sandbox from any terminal; `--new-session` is left out so that Orch's SIGTERM to the process
 * group still reaches the agent and lets it end gracefully.
 */
export function bwrapArguments(options: BwrapOptions): string[] {
  const args = ['--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try', '--die-with-parent'];
  if (options.unshareNet) args.push('--unshare-net');
  args.push('--proc', '/proc', '--dev', '/dev');
  const readOnlyHidden: string[] = [];
  for (const mount of options.policy.mounts) {
    switch (mount.access) {
      case 'read-only':
        args.push('--ro-bind-try', mount.path, mount.path);
        break;
      case 'writable':
        args.push('--bind-try', mount.path, mount.path);
        break;
      case 'scratch':
        args.push('--tmpfs', mount.path);
        break;
      case 'hidden':
        // Only what exists needs hiding; a mount point cannot be made inside a read-only directory.
        if (!existsSync(mount.path)) break;
        args.push('--tmpfs', mount.path);
        readOnlyHidden.push(mount.path);
        break;
    }
  }
  for (const path of options.binds) args.push('--bind', path, path);
  for (const path of options.readOnlyBinds ?? []) args.push('--ro-bind', path, path);
  // Made read-only last: the mounts above may need their mount points created inside.
  for (const path of new Set(readOnlyHidden)) args.push('--remount-ro', path);
  args.push('--chdir', options.cwd);
  return args;
}
