// An HTTP(S) proxy on 127.0.0.1 that records where a client tried to go and lets it reach only loopback.
// Handed to a CLI through HTTPS_PROXY & co., it names the hosts a proxy-aware CLI would have contacted, which a
// loopback-only namespace (loopback-only.ts) blocks without saying what was tried.

import { createServer, request, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { isLoopbackTarget } from './network-guard-core.mjs';

export interface ProxyTripwire {
  url: string;
  port: number;
  /** `host:port` of every refused attempt, in order. */
  attempts: string[];
  /** Proxy variables (both spellings) pointing at the tripwire; loopback goes direct. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startProxyTripwire(): Promise<ProxyTripwire> {
  const attempts: string[] = [];
  const open = new Set<Socket>();

  // Plain-HTTP proxy requests carry an absolute URL.
  const server = createServer((incoming, response) => {
    const target = new URL(incoming.url ?? '/', 'http://invalid');
    if (!isLoopbackTarget(target.hostname)) {
      attempts.push(`${target.hostname}:${target.port || 80}`);
      response.writeHead(403, { 'content-type': 'text/plain' }).end('proxy tripwire: only loopback is reachable\n');
      return;
    }
    const upstream = request(target, { method: incoming.method, headers: incoming.headers }, (answer: IncomingMessage) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    upstream.on('error', () => response.destroy());
    incoming.pipe(upstream);
  });

  // HTTPS goes through CONNECT host:port.
  server.on('connect', (incoming: IncomingMessage, client: Socket, head: Buffer) => {
    const [host = '', port = '443'] = splitHostPort(incoming.url ?? '');
    if (!isLoopbackTarget(host)) {
      attempts.push(`${host}:${port}`);
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.once('close', () => open.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const noProxy = '127.0.0.1,localhost,::1';
  return {
    url,
    port,
    attempts,
    env: {
      HTTPS_PROXY: url,
      https_proxy: url,
      HTTP_PROXY: url,
      http_proxy: url,
      ALL_PROXY: url,
      all_proxy: url,
      NO_PROXY: noProxy,
      no_proxy: noProxy,
    },
    close() {
      for (const socket of open) socket.destroy();
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function splitHostPort(authority: string): [string, string] {
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(authority);
  if (bracketed) return [bracketed[1] ?? '', bracketed[2] ?? '443'];
  const colon = authority.lastIndexOf(':');
  return colon === -1 ? [authority, '443'] : [authority.slice(0, colon), authority.slice(colon + 1)];
}
