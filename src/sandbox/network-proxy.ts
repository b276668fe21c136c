import { appendFileSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { describeDenial, endpointAllowed, hostPort, parseEndpoint, type Endpoint, type SandboxDenial } from '../core/sandbox-network.js';

/**
 * The allow-listing proxy a `model-only` sandbox reaches the world through. It listens on a Unix
 * socket (a file, so it crosses into the sandbox's empty network namespace by a bind mount) and
 * speaks the two forms of HTTP proxying: CONNECT host:port (HTTPS, and every relay port of the
 * sandbox), and plain requests with an absolute `http://` URL. Only the allowed endpoints' host:port
 * pass; anything else gets a 403 saying `sandbox denied a connection to host:port`, and the denial is
 * appended to the denials file and handed to `onDenial`.
 */
export interface ModelProxyOptions {
  socketPath: string;
  allowed: readonly Endpoint[];
  /** Each refused connection is appended here, one line each (the run's folder). */
  denialsFile: string | null;
  onDenial?: (denial: SandboxDenial) => void;
}

export interface ModelProxy {
  denials(): SandboxDenial[];
  close(): Promise<void>;
}

export async function startModelProxy(options: ModelProxyOptions): Promise<ModelProxy> {
  const denials: SandboxDenial[] = [];
  const open = new Set<Duplex>();
  const track = (socket: Duplex) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    // A peer that goes away mid-stream is its own business: the other side is closed with it.
    socket.on('error', () => socket.destroy());
  };

  const deny = (host: string, port: number, via: SandboxDenial['via']): string => {
    const denial: SandboxDenial = { kind: 'connection_denied', host, port, via };
    denials.push(denial);
    const message = describeDenial(denial);
    if (options.denialsFile !== null) {
      try {
        appendFileSync(options.denialsFile, `${message}\n`, { mode: 0o600 });
      } catch {
        // The refusal stands whether or not it could be written down.
      }
    }
    options.onDenial?.(denial);
    return message;
  };

  const server = createServer((req, res) => forwardPlainRequest(req, res));
  server.on('connection', track);
  server.on('connect', (req: IncomingMessage, client: Duplex, head: Buffer) => tunnel(req, client, head));
  server.on('clientError', (_error, socket) => socket.destroy());

  function tunnel(req: IncomingMessage, client: Duplex, head: Buffer): void {
    const target = parseEndpoint(req.url ?? '');
    if (target === null) {
      client.end(rawResponse(400, `CONNECT needs host:port, got ${JSON.stringify(req.url ?? '')}`));
      return;
    }
    const via = req.headers['x-orch-relay'] !== undefined ? 'relay' : 'connect';
    if (!endpointAllowed(options.allowed, target.host, target.port)) {
      client.end(rawResponse(403, deny(target.host, target.port, via)));
      return;
    }
    const upstream = connect(target.port, target.host);
    track(upstream);
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.once('error', (error) => {
      if (upstream.connecting) client.end(rawResponse(502, `cannot reach ${hostPort(target.host, target.port)}: ${error.message}`));
      else client.destroy();
    });
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  }

  function forwardPlainRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = absoluteHttpUrl(req.url ?? '');
    const target = url === null ? null : parseEndpoint(url.href);
    if (url === null || target === null) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('a proxy request needs an absolute http:// URL\n');
      return;
    }
    if (!endpointAllowed(options.allowed, target.host, target.port)) {
      res.writeHead(403, { 'content-type': 'text/plain', connection: 'close' }).end(`${deny(target.host, target.port, 'http')}\n`);
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-connection'];
    delete headers['proxy-authorization'];
    const upstream = request({ host: target.host, port: target.port, method: req.method, path: `${url.pathname}${url.search}`, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(`cannot reach ${hostPort(target.host, target.port)}: ${error.message}\n`);
      else res.destroy();
    });
    req.pipe(upstream);
  }

  rmSync(options.socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });

  return {
    denials: () => [...denials],
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
      rmSync(options.socketPath, { force: true });
    },
  };
}

/** An `http://` URL as a proxy request carries it; null for a path or anything unreadable. */
function absoluteHttpUrl(text: string): URL | null {
  if (!/^http:\/\//i.test(text)) return null;
  try {
    return new URL(text);
  } catch {
    return null;
  }
}

function rawResponse(status: number, message: string): string {
  const reason = { 400: 'Bad Request', 403: 'Forbidden', 502: 'Bad Gateway' }[status] ?? 'Error';
  const body = `${message}\n`;
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}
