// Proves the three layers that keep the test suite offline: the in-process guard, its preload for Node
// children, and the loopback-only network namespace (with the proxy tripwire that names what was tried).

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import dns from 'node:dns';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childNetworkGuardEnv, readChildViolations } from './network-guard-child.js';
import { installNetworkGuard, NetworkGuardError } from './network-guard-core.mjs';
import { loopbackOnlySupport, startLoopbackBridge } from './loopback-only.js';
import { startProxyTripwire } from './proxy-tripwire.js';

/** A documentation address (RFC 5737): never a real host, and not loopback. */
const PUBLIC_ADDRESS = '192.0.2.1';

let hostServer: Server;
let hostPort: number;
let scratch: string;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'orch-network-guard-'));
  hostServer = createServer((_request, response) => response.end('hello from the host'));
  await new Promise<void>((resolve) => hostServer.listen(0, '127.0.0.1', resolve));
  hostPort = (hostServer.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => hostServer.close(resolve));
  rmSync(scratch, { recursive: true, force: true });
});

/** Runs `node -e script` and returns its exit code and output. */
function runNode(script: string, env: Record<string, string>, wrap: (argv: string[]) => string[] = (argv) => argv) {
  const [command = '', ...args] = wrap([process.execPath, '--input-type=module', '-e', script]);
  const child = spawn(command, args, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
}

/** Tries a public address, a public name and the host server; prints what happened to each as JSON. */
function probeScript(port: number): string {
  return `
    import net from 'node:net';
    import dns from 'node:dns/promises';
    const attempt = (promise) => promise.then(() => 'connected', (error) => error.code ?? error.message);
    const tcp = (host, port) => attempt(new Promise((resolve, reject) => {
      try {
        const socket = net.connect({ host, port }, () => { socket.destroy(); resolve(); });
        socket.on('error', reject);
        socket.setTimeout(5000, () => { socket.destroy(); reject(new Error('timeout')); });
      } catch (error) { reject(error); }
    }));
    const publicTcp = await tcp('${PUBLIC_ADDRESS}', 443);
    const publicDns = await attempt((async () => dns.lookup('example.com'))());
    const loopback = await fetch('http://127.0.0.1:${port}/').then((response) => response.text(), (error) => String(error.cause ?? error));
    console.log(JSON.stringify({ publicTcp, publicDns, loopback }));
  `;
}

describe('in-process network guard', () => {
  it('throws on non-loopback connections and lookups, records them, and leaves loopback alone', async () => {
    const blocked: string[] = [];
    const uninstall = installNetworkGuard({ onViolation: (target) => blocked.push(target) });
    try {
      expect(() => net.connect({ host: PUBLIC_ADDRESS, port: 443 })).toThrow(NetworkGuardError);
      expect(() => net.connect(443, PUBLIC_ADDRESS)).toThrow(NetworkGuardError);
      expect(() => dns.lookup('example.com', () => undefined)).toThrow(NetworkGuardError);
      await expect(dns.promises.resolve4('example.com')).rejects.toThrow(NetworkGuardError);
      await expect(fetch(`https://${PUBLIC_ADDRESS}/`)).rejects.toThrow();
      expect(await (await fetch(`http://127.0.0.1:${hostPort}/`)).text()).toBe('hello from the host');
      expect(await (await fetch(`http://localhost:${hostPort}/`)).text()).toBe('hello from the host');
    } finally {
      uninstall();
    }
    expect(blocked).toEqual([
      `${PUBLIC_ADDRESS}:443`,
      `${PUBLIC_ADDRESS}:443`,
      'dns example.com',
      'dns example.com',
      `${PUBLIC_ADDRESS}:443`,
    ]);
  });
});

describe('network guard preload for Node children', () => {
  it('blocks the child and logs each attempt to the file the parent reads', async () => {
    const logFile = join(scratch, 'child-violations.jsonl');
    const result = await runNode(probeScript(hostPort), childNetworkGuardEnv(logFile));
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ publicTcp: 'ENETUNREACH', publicDns: 'ENETUNREACH', loopback: 'hello from the host' });
    expect(readChildViolations(logFile).map((violation) => violation.target)).toEqual([`${PUBLIC_ADDRESS}:443`, 'dns example.com']);
  });
});

const support = loopbackOnlySupport();

describe.skipIf(!support.available)(`loopback-only namespace${support.available ? '' : ` (unavailable: ${support.reason})`}`, () => {
  it('refuses a public address from inside while the forwarded host port works', async () => {
    const bridge = await startLoopbackBridge([hostPort]);
    try {
      // No guard inside: the namespace alone must stop it.
      const result = await runNode(probeScript(hostPort), {}, bridge.wrap);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const outcome = JSON.parse(result.stdout) as Record<string, string>;
      expect(outcome.publicTcp).toBe('ENETUNREACH');
      expect(['EAI_AGAIN', 'ENOTFOUND', 'ECONNREFUSED']).toContain(outcome.publicDns);
      expect(outcome.loopback).toBe('hello from the host');
    } finally {
      await bridge.close();
    }
  });

  it('passes the command exit status and signals through', async () => {
    const bridge = await startLoopbackBridge([]);
    try {
      expect((await runNode('process.exit(7)', {}, bridge.wrap)).code).toBe(7);
      expect((await runNode("process.kill(process.pid, 'SIGTERM')", {}, bridge.wrap)).signal).toBe('SIGTERM');
    } finally {
      await bridge.close();
    }
  });
});

describe('proxy tripwire', () => {
  async function sendConnect(proxyPort: number, authority: string): Promise<string> {
    const socket = net.connect(proxyPort, '127.0.0.1');
    socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
    const [statusLine] = await new Promise<string[]>((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString().split('\r\n'))));
    socket.destroy();
    return statusLine ?? '';
  }

  it('records and refuses CONNECTs to other hosts, tunnels loopback ones', async () => {
    const tripwire = await startProxyTripwire();
    try {
      expect(await sendConnect(tripwire.port, 'api.anthropic.com:443')).toBe('HTTP/1.1 403 Forbidden');
      expect(await sendConnect(tripwire.port, `127.0.0.1:${hostPort}`)).toBe('HTTP/1.1 200 Connection Established');
      expect(tripwire.attempts).toEqual(['api.anthropic.com:443']);
      expect(tripwire.env.NO_PROXY).toContain('127.0.0.1');
    } finally {
      await tripwire.close();
    }
  });
});
