import { existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OrchError } from '../core/errors.js';
import { parseEndpoints, proxyPortBesides, relayPorts, type SandboxDenial } from '../core/sandbox-network.js';
import { startModelProxy } from './network-proxy.js';
import { socketPathIn } from './socket-path.js';
import type { NetworkMode, SandboxNetwork, SandboxNetworkOptions } from './sandbox.js';

export type { NetworkMode, SandboxDenial, SandboxNetwork, SandboxNetworkOptions };

/**
 * A sandbox's network (the port's contract is sandbox.ts):
 * - `none`: its own empty network namespace;
 * - `full`: the host's network;
 * - `model-only`: its own empty network namespace, whose only way out is the allow-listing proxy Orch
 *   runs for this run (network-proxy.ts) on a Unix socket in the run's folder, bound in. Inside, the
 *   relay (relay.ts) serves the proxy on 127.0.0.1 for HTTPS_PROXY / HTTP_PROXY and each loopback model
 *   endpoint at its own port, so `http://127.0.0.1:PORT` base URLs work unchanged.
 * One proxy per run rather than one for all: each run's allow-list is its own agent's, its socket is in
 * its own folder (so no other sandbox can reach it), its denials are its own, and it ends with the run.
 */
export interface OpenedSandboxNetwork extends SandboxNetwork {
  /** Connections refused so far (model-only; empty otherwise). */
  denials(): SandboxDenial[];
}

export interface NetworkOpenOptions extends SandboxNetworkOptions {
  /** Each refused connection, as it happens (also appended to `sandbox-denials.log` in runDir). */
  onDenial?: (denial: SandboxDenial) => void;
}

/** The run's log of refused connections, one `sandbox denied a connection to host:port` a line. */
export const DENIALS_FILE = 'sandbox-denials.log';
const SOCKET_FILE = 'network.sock';
const LOOPBACK_NAMES = 'localhost,127.0.0.1,::1';

export async function openSandboxNetwork(options: NetworkOpenOptions): Promise<OpenedSandboxNetwork> {
  if (options.mode === 'full') return unchanged(false);
  if (options.mode === 'none') return unchanged(true);

  const { endpoints, invalid } = parseEndpoints(options.modelEndpoints);
  if (invalid.length > 0) {
    throw new OrchError('config', `cannot tell the model API's host and port from ${invalid.map((v) => JSON.stringify(v)).join(', ')}: give the agent's base URL as http(s)://host[:port]`);
  }
  const relayed = relayPorts(endpoints);
  const proxyPort = proxyPortBesides(relayed);
  const relayScript = relayScriptPath();
  // The real file: the sandbox mounts Node's install directory, not the links that may lead to it.
  const node = realpathSync(process.execPath);

  const socket = socketPathIn(options.runDir, SOCKET_FILE);
  const socketPath = socket.path;
  const proxy = await startModelProxy({ socketPath, allowed: endpoints, denialsFile: join(options.runDir, DENIALS_FILE), onDenial: options.onDenial }).catch((error: Error) => {
    socket.cleanup();
    throw error;
  });

  let closing: Promise<void> | null = null;
  const proxyUrl = `http://127.0.0.1:${proxyPort}`;
  // One listener per port inside: `localhost:P` and `127.0.0.1:P` are the same port there.
  const relays = relayed.flatMap((port) => ['--relay', `${port}=${endpoints.find((e) => e.loopback && e.port === port)!.host}`]);
  return {
    unshareNet: true,
    binds: [socketPath],
    // The relay runs from Orch's install, which the sandbox does not otherwise see; Node's own is mounted.
    readOnlyBinds: [relayScript],
    env: {
      HTTPS_PROXY: proxyUrl,
      https_proxy: proxyUrl,
      HTTP_PROXY: proxyUrl,
      http_proxy: proxyUrl,
      // Loopback inside is the sandbox's own (its dev servers, and the relayed model ports): never proxied.
      NO_PROXY: LOOPBACK_NAMES,
      no_proxy: LOOPBACK_NAMES,
      // Node's own fetch follows the variables above only when asked (Node 24 on; older ones ignore it).
      NODE_USE_ENV_PROXY: '1',
    },
    wrap: (argv) => [node, relayScript, '--socket', socketPath, '--proxy-port', String(proxyPort), ...relays, '--', ...argv],
    denials: () => proxy.denials(),
    close() {
      // Safe to call more than once: the second call waits for the first.
      closing ??= (async () => {
        await proxy.close();
        socket.cleanup();
      })();
      return closing;
    },
  };
}

function unchanged(unshareNet: boolean): OpenedSandboxNetwork {
  return { unshareNet, binds: [], readOnlyBinds: [], env: {}, wrap: (argv) => argv, denials: () => [], close: async () => undefined };
}

/** The relay next to this module when built, else the build of the sources being run. */
export function relayScriptPath(): string {
  const candidates = ['../sandbox/relay.js', '../../dist/sandbox/relay.js'].map((path) => fileURLToPath(new URL(path, import.meta.url)));
  const script = candidates.find((path) => existsSync(path));
  if (!script) throw new OrchError('config', 'cannot find the sandbox network relay (sandbox/relay.js): build Orch first');
  return script;
}

