import type { SandboxNetwork, SandboxNetworkOptions } from './sandbox.js';

const unchanged = (argv: string[]) => argv;

/**
 * Opens a run's network. `full` shares the host's network; `none` gives the sandbox an empty network
 * namespace; `model-only` is, in this build, `none`: the allow-listing proxy that lets an agent reach
 * only its model API is a separate piece, and until it is present a model-only run reaches nothing,
 * which errs on the safe side.
 */
export async function openSandboxNetwork(options: SandboxNetworkOptions): Promise<SandboxNetwork> {
  const shared = options.mode === 'full';
  return { unshareNet: !shared, binds: [], env: {}, wrap: unchanged, close: async () => undefined };
}
