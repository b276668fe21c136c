import { realpathSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { describeDenial } from '../core/sandbox-network.js';
import type { SandboxPolicy } from '../core/sandbox-policy.js';
import { bwrapArguments } from './bwrap.js';
import { openSandboxNetwork } from './network.js';
import type { SandboxNetworkOptions } from './sandbox.js';

/** Everything needed to start processes in a run's sandbox, decided before any starts. */
export interface SandboxPlan {
  /** The bubblewrap executable the probe found. */
  bwrap: string;
  policy: SandboxPolicy;
  network: SandboxNetworkOptions;
  /** Variables set inside on top of the process's own (HOME for commands without one of their own). */
  env?: Record<string, string>;
}

/** The plan for a command (a hook, a judge command) started in `cwd`; null: no sandbox. */
export type SandboxFor = (cwd: string, program: string) => SandboxPlan | null;

/** A sandbox ready for one process: how to start it, and what to close once it has ended. */
export interface OpenedSandbox {
  command: string;
  args: string[];
  env: Record<string, string>;
  /** Connections the network refused so far, each as `sandbox denied a connection to host:port`. */
  denials(): string[];
  close(): Promise<void>;
}

/**
 * Opens the plan's network and returns the bwrap command line that runs `program args` in `cwd`
 * inside. The program is found on the host (PATH of `env`, symlinks resolved) so that it runs from
 * its real install directory, which the policy mounts, rather than through a link the sandbox hides.
 */
export async function openSandbox(plan: SandboxPlan, program: string, args: string[], cwd: string, env: Record<string, string>): Promise<OpenedSandbox> {
  const network = await openSandboxNetwork(plan.network);
  const inner = network.wrap([hostProgram(program, cwd, env.PATH ?? ''), ...args]);
  const bwrapArgs = bwrapArguments({ policy: plan.policy, cwd, unshareNet: network.unshareNet, binds: network.binds, readOnlyBinds: network.readOnlyBinds });
  return {
    command: plan.bwrap,
    args: [...bwrapArgs, '--', ...inner],
    // The host's TMPDIR does not exist inside: the sandbox's own /tmp does.
    env: { ...env, ...plan.env, ...network.env, TMPDIR: '/tmp' },
    denials: () => network.denials().map(describeDenial),
    close: () => network.close(),
  };
}

/** The real path of the program a spawn would run, or the name unchanged when it is not found. */
export function hostProgram(program: string, cwd: string, path: string): string {
  const candidates = program.includes('/') ? [isAbsolute(program) ? program : resolve(cwd, program)] : path.split(delimiter).filter(Boolean).map((dir) => join(dir, program));
  for (const candidate of candidates) {
    try {
      if (statSync(candidate).isFile()) return realpathSync(candidate);
    } catch {
      // not this one
    }
  }
  return program;
}

/**
 * The directory a program is installed in, for the read-only mounts: the outermost `node_modules`
 * above it (a CLI installed with npm needs its dependencies beside it), else its own directory.
 */
export function installDirOf(realProgram: string): string {
  if (!isAbsolute(realProgram)) return realProgram;
  const marker = '/node_modules/';
  const at = realProgram.indexOf(marker);
  if (at >= 0) return realProgram.slice(0, at + marker.length - 1);
  return realProgram.slice(0, realProgram.lastIndexOf('/')) || '/';
}
