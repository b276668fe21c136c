// Runs a command with every layer of the offline rig at once: loopback-only network namespace (when the machine
// allows it) with the given host ports forwarded in, the proxy tripwire in its environment, and the network
// guard preloaded into its Node processes. The result says what, if anything, tried to leave.

import { join } from 'node:path';
import { loopbackOnlySupport, startLoopbackBridge } from './loopback-only.js';
import { childNetworkGuardEnv, readChildViolations, type ChildViolation } from './network-guard-child.js';
import { startProxyTripwire } from './proxy-tripwire.js';
import { startCli, type CliRunOptions, type CliRunResult, type RunningCli } from './run-cli.js';

export interface OfflineRunOptions extends CliRunOptions {
  /** Host loopback ports the command may reach (the fake model server's). */
  reachablePorts: number[];
  /** A scratch directory for the guard's violation log. */
  scratchDir: string;
}

export interface OfflineRunResult extends CliRunResult {
  /** False when this machine cannot make network namespaces: then only the tripwire and the guard applied. */
  loopbackOnly: boolean;
  /** Hosts a proxy-aware process tried to reach through the tripwire. */
  proxyAttempts: string[];
  /** Connections the preloaded guard blocked in Node processes. */
  childViolations: ChildViolation[];
}

export interface RunningOfflineCli extends Omit<RunningCli, 'result'> {
  result: Promise<OfflineRunResult>;
}

export async function startOfflineCli(argv: string[], options: OfflineRunOptions): Promise<RunningOfflineCli> {
  const loopbackOnly = loopbackOnlySupport().available;
  const tripwire = await startProxyTripwire();
  const bridge = loopbackOnly ? await startLoopbackBridge([...options.reachablePorts, tripwire.port]) : null;
  const guardLog = join(options.scratchDir, 'network-guard.jsonl');
  const env = { ...options.env, ...tripwire.env, ...childNetworkGuardEnv(guardLog, options.env) };
  const running = startCli(bridge ? bridge.wrap(argv) : argv, { ...options, env });
  const result = running.result.finally(async () => {
    await bridge?.close();
    await tripwire.close();
  });
  return {
    pid: running.pid,
    signalGroup: running.signalGroup,
    result: result.then((outcome) => ({
      ...outcome,
      loopbackOnly,
      proxyAttempts: [...tripwire.attempts],
      childViolations: readChildViolations(guardLog),
    })),
  };
}
