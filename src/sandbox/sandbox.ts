// The sandbox port: every process Orch starts for an agent run (the agent CLI, hooks, judge commands)
// runs inside an OS sandbox that lets it touch its worktree and nothing else. What is writable,
// read-only or hidden is decided in the pure core (core/sandbox-policy.ts); this folder turns that
// decision into a bubblewrap command line (bwrap.ts), finds out whether bubblewrap can run here
// (probe.ts), and gives the sandbox its network (network.ts).

/**
 * How much network a sandboxed run gets.
 * - `model-only`: only the agent's model API (through an allow-listing proxy Orch runs and hands in);
 *   the sandbox's own network namespace is empty.
 * - `full`: the host's network, unchanged.
 * - `none`: an empty network namespace: not even loopback reaches the host.
 */
export { NETWORK_MODES, type NetworkMode } from '../core/sandbox-policy.js';
import type { NetworkMode } from '../core/sandbox-policy.js';

export interface SandboxNetworkOptions {
  mode: NetworkMode;
  /** Origins the agent's model API lives at (e.g. `https://api.anthropic.com`), for `model-only`. */
  modelEndpoints: string[];
  /** The run's own folder in ORCH_HOME: sockets or files the network needs may live here. */
  runDir: string;
}

/** A run's network, opened before the sandbox starts and closed once every process in it is gone. */
export interface SandboxNetwork {
  /** Whether the sandbox gets its own, empty network namespace (`--unshare-net`). */
  unshareNet: boolean;
  /** Host paths bound read-write at the same path inside the sandbox (a proxy's socket, say). */
  binds: string[];
  /** Host paths bound read-only at the same path inside the sandbox (the relay's script, say). */
  readOnlyBinds: string[];
  /** Variables added to the sandboxed process's environment (HTTPS_PROXY, say). */
  env: Record<string, string>;
  /** The argv run inside the sandbox: a prefix (a relay, say) before the agent's own, or the same argv. */
  wrap(argv: string[]): string[];
  /** Stops whatever the network started for the run. Safe to call more than once. */
  close(): Promise<void>;
}

export type OpenSandboxNetwork = (options: SandboxNetworkOptions) => Promise<SandboxNetwork>;

export { SANDBOX_SWITCHES, type SandboxSwitch } from '../core/sandbox-policy.js';
