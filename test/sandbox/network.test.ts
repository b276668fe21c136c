// The sandbox's network, for real: bubblewrap with the network namespace, binds, environment and relay
// openSandboxNetwork hands back, and a Node probe inside that tries a model endpoint on the host's
// loopback, another loopback listener, and the proxy with allowed and refused targets. Needs the build
// (the relay runs from dist/): `npx tsc -p tsconfig.build.json`.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DENIALS_FILE, openSandboxNetwork, relayScriptPath, type OpenedSandboxNetwork } from '../../src/sandbox/network.js';
import { tempDir } from '../helpers/git.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

beforeAll(() => {
  relayScriptPath(); // throws "build Orch first" when dist/ is missing
});

/** An HTTP listener on the host's 127.0.0.1 that names itself in every answer. */
async function listener(name: string): Promise<{ port: number; url: string }> {
  const server: Server = createServer((req, res) => res.end(`${name} answers ${req.method} ${req.url}`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as { port: number }).port;
  return { port, url: `http://127.0.0.1:${port}` };
}

// Each probe prints one JSON line: { ok, answer } or { ok: false, error }.
const PROBE = `
import net from 'node:net';
import http from 'node:http';
const [what, target] = process.argv.slice(2);
const done = (result) => { process.stdout.write(JSON.stringify(result) + '\\n'); process.exit(0); };
const failed = (error) => done({ ok: false, error: error.code ?? error.message });
const read = (res) => { let body = ''; res.on('data', (c) => (body += c)); res.on('end', () => done({ ok: res.statusCode === 200, status: res.statusCode, answer: body })); };
const proxy = new URL(process.env.HTTPS_PROXY ?? 'http://127.0.0.1:1');
if (what === 'get') {
  http.get(target + '/v1/messages', read).on('error', failed);
} else if (what === 'proxied-get') {
  http.get({ host: proxy.hostname, port: proxy.port, path: target + '/via-proxy' }, read).on('error', failed);
} else if (what === 'connect') {
  const req = http.request({ host: proxy.hostname, port: proxy.port, method: 'CONNECT', path: target });
  req.on('connect', (res, socket) => {
    if (res.statusCode !== 200) return done({ ok: false, status: res.statusCode });
    socket.write('GET /through-tunnel HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n');
    let body = ''; socket.on('data', (c) => (body += c)); socket.on('end', () => done({ ok: true, answer: body.split('\\r\\n\\r\\n')[1] }));
  });
  req.on('response', read);
  req.on('error', failed);
  req.end();
}
`;

interface ProbeResult {
  ok: boolean;
  status?: number;
  answer?: string;
  error?: string;
}

/** Runs the probe in bubblewrap as the sandbox would: the network's namespace, binds, env and wrap. */
async function probeInside(network: OpenedSandboxNetwork, dir: string, what: 'get' | 'proxied-get' | 'connect', target: string): Promise<ProbeResult> {
  const probe = join(dir, 'probe.mjs');
  if (!existsSync(probe)) writeFileSync(probe, PROBE);
  const argv = [
    'bwrap',
    '--die-with-parent',
    '--unshare-pid',
    ...(network.unshareNet ? ['--unshare-net'] : []),
    '--ro-bind', '/', '/',
    '--dev', '/dev',
    '--proc', '/proc',
    ...network.binds.flatMap((path) => ['--bind', path, path]),
    ...network.readOnlyBinds.flatMap((path) => ['--ro-bind', path, path]),
    '--',
    ...network.wrap([process.execPath, probe, what, target]),
  ];
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, ...network.env };
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      const line = stdout.trim().split('\n').at(-1) ?? '';
      try {
        resolve(JSON.parse(line) as ProbeResult);
      } catch {
        reject(new Error(`the probe printed no result (exit ${code}): ${stdout}${stderr}`));
      }
    });
  });
}

async function network(mode: 'model-only' | 'full' | 'none', modelEndpoints: string[]) {
  const scratch = tempDir('orch-net-');
  cleanups.push(scratch.cleanup);
  const denied: string[] = [];
  const opened = await openSandboxNetwork({ mode, modelEndpoints, runDir: scratch.path, onDenial: (d) => denied.push(`${d.host}:${d.port}`) });
  cleanups.push(() => opened.close());
  return { net: opened, dir: scratch.path, denied };
}

describe('model-only', () => {
  it('reaches the model endpoint at its own loopback URL, and its answers arrive', async () => {
    const model = await listener('the model');
    const { net, dir } = await network('model-only', [`${model.url}/v1`]);
    expect(net.unshareNet).toBe(true);
    expect(await probeInside(net, dir, 'get', model.url)).toEqual({ ok: true, status: 200, answer: 'the model answers GET /v1/messages' });
  });

  it('reaches the model endpoint through HTTPS_PROXY too, by CONNECT and by a plain proxied request', async () => {
    const model = await listener('the model');
    const { net, dir } = await network('model-only', [model.url]);
    expect(await probeInside(net, dir, 'connect', `127.0.0.1:${model.port}`)).toEqual({ ok: true, answer: 'the model answers GET /through-tunnel' });
    expect(await probeInside(net, dir, 'proxied-get', model.url)).toMatchObject({ ok: true, answer: 'the model answers GET /via-proxy' });
  });

  it('cannot connect to another listener on loopback', async () => {
    const model = await listener('the model');
    const other = await listener('another service');
    const { net, dir } = await network('model-only', [model.url]);
    expect(await probeInside(net, dir, 'get', other.url)).toEqual({ ok: false, error: 'ECONNREFUSED' });
  });

  it('refuses a CONNECT or a proxied request to anything else with a 403 and a named denial in the run folder', async () => {
    const model = await listener('the model');
    const other = await listener('another service');
    const { net, dir, denied } = await network('model-only', [model.url]);
    expect(await probeInside(net, dir, 'connect', 'github.com:443')).toEqual({ ok: false, status: 403 });
    const proxied = await probeInside(net, dir, 'proxied-get', other.url);
    expect(proxied).toMatchObject({ ok: false, status: 403, answer: `sandbox denied a connection to 127.0.0.1:${other.port}\n` });
    expect(denied).toEqual(['github.com:443', `127.0.0.1:${other.port}`]);
    expect(net.denials().map((d) => d.via)).toEqual(['connect', 'http']);
    expect(readFileSync(join(dir, DENIALS_FILE), 'utf8')).toBe(`sandbox denied a connection to github.com:443\nsandbox denied a connection to 127.0.0.1:${other.port}\n`);
  });

  it('answers a request it cannot read with a 400 and goes on serving', async () => {
    const model = await listener('the model');
    const { net, dir } = await network('model-only', [model.url]);
    const raw = (text: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(net.binds[0]!);
        let answer = '';
        socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
        socket.on('close', () => resolve(answer));
        socket.on('error', reject);
        socket.end(text);
      });
    expect(await raw('GET http://[not-a-host/ HTTP/1.1\r\nHost: x\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
    expect(await raw('CONNECT nowhere HTTP/1.1\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
    expect(await probeInside(net, dir, 'get', model.url)).toMatchObject({ ok: true });
  });

  it('refuses a model endpoint it cannot read, in one line', async () => {
    const scratch = tempDir('orch-net-');
    cleanups.push(scratch.cleanup);
    await expect(openSandboxNetwork({ mode: 'model-only', modelEndpoints: ['api.example.com'], runDir: scratch.path })).rejects.toThrow(
      /cannot tell the model API's host and port from "api.example.com"/,
    );
  });
});

describe('none and full', () => {
  it('none reaches nothing, not even the model endpoint', async () => {
    const model = await listener('the model');
    const { net, dir } = await network('none', [model.url]);
    expect(net).toMatchObject({ unshareNet: true, binds: [], env: {} });
    expect(await probeInside(net, dir, 'get', model.url)).toEqual({ ok: false, error: 'ECONNREFUSED' });
  });

  it('full reaches any listener on loopback', async () => {
    const other = await listener('another service');
    const { net, dir } = await network('full', []);
    expect(net.unshareNet).toBe(false);
    expect(await probeInside(net, dir, 'get', other.url)).toEqual({ ok: true, status: 200, answer: 'another service answers GET /v1/messages' });
  });
});
