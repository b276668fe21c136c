// Runs a command so it physically cannot reach another machine: in its own network namespace, where the only
// interface is loopback (`unshare --net`; as non-root `unshare --map-root-user --net`). This is what keeps the
// native CLIs (claude and opencode are compiled Bun binaries, codex is Rust) offline, since no in-process patch
// reaches them. Chosen ports of the host's 127.0.0.1 (the fake model server) stay reachable from inside through
// Unix sockets, which cross network namespaces because they live in the filesystem.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const LAUNCHER = fileURLToPath(new URL('./loopback-namespace.mjs', import.meta.url));

export interface LoopbackOnlySupport {
  available: boolean;
  /** Why not, when not available. */
  reason: string;
  /** The `unshare` argv prefix that works here. */
  unshare: string[];
}

export interface PortForward {
  port: number;
  socketPath: string;
}

let probed: LoopbackOnlySupport | undefined;

/** Whether this machine can run commands loopback-only, probed once per process by actually doing it. */
export function loopbackOnlySupport(): LoopbackOnlySupport {
  if (probed) return probed;
  const unshare = process.getuid?.() === 0 ? ['unshare', '--net'] : ['unshare', '--map-root-user', '--net'];
  const probe = spawnSync(unshare[0] ?? 'unshare', [...unshare.slice(1), '--', process.execPath, LAUNCHER, '--probe'], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  const reason = probe.error?.message ?? (probe.status === 0 ? '' : `${unshare.join(' ')} failed: ${probe.stderr.trim()}`);
  probed = { available: probe.status === 0, reason, unshare };
  return probed;
}

/**
 * The argv that runs `argv` loopback-only, with each forward's port on the inside's 127.0.0.1 leading to its Unix
 * socket (see startLoopbackBridge). Throws when the machine cannot do it: call loopbackOnlySupport() to skip first.
 */
export function withLoopbackOnly(argv: string[], forwards: PortForward[] = []): string[] {
  const support = loopbackOnlySupport();
  if (!support.available) throw new Error(`cannot run loopback-only: ${support.reason}`);
  const forwardArgs = forwards.flatMap(({ port, socketPath }) => ['--forward', `${port}=${socketPath}`]);
  return [...support.unshare, '--', process.execPath, LAUNCHER, ...forwardArgs, '--', ...argv];
}

export interface LoopbackBridge {
  forwards: PortForward[];
  /** withLoopbackOnly(argv, this bridge's forwards). */
  wrap(argv: string[]): string[];
  close(): Promise<void>;
}

/** Exposes host loopback ports (the fake model server, a proxy tripwire) to commands run loopback-only. */
export async function startLoopbackBridge(ports: number[]): Promise<LoopbackBridge> {
  const directory = mkdtempSync(join(tmpdir(), 'orch-loopback-'));
  const servers: Server[] = [];
  const open = new Set<Socket>();
  const forwards: PortForward[] = [];
  for (const port of ports) {
    const socketPath = join(directory, `port-${port}.sock`);
    const server = createServer((inside) => {
      const host = connect(port, '127.0.0.1');
      for (const socket of [inside, host]) {
        open.add(socket);
        socket.once('close', () => open.delete(socket));
      }
      inside.pipe(host).pipe(inside);
      inside.on('error', () => host.destroy());
      host.on('error', () => inside.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, resolve);
    });
    servers.push(server);
    forwards.push({ port, socketPath });
  }
  return {
    forwards,
    wrap: (argv) => withLoopbackOnly(argv, forwards),
    async close() {
      for (const socket of open) socket.destroy();
      await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
