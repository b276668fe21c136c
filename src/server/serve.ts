import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';

export interface ListenOptions {
  /** Loopback unless asked otherwise: the API drives agents that run code. */
  host?: string;
  /** 0 picks a free port (tests). */
  port: number;
}

export interface RunningServer {
  url: string;
  port: number;
  /** Stops listening and ends every open connection, SSE streams included. */
  close(): Promise<void>;
}

export const DEFAULT_HOST = '127.0.0.1';

export function startServer(app: Hono, options: ListenOptions): Promise<RunningServer> {
  const host = options.host ?? DEFAULT_HOST;
  return new Promise((resolve, reject) => {
    // No createServer option is passed, so this is a plain node:http server.
    const server = serve({ fetch: app.fetch, hostname: host, port: options.port }) as Server;
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      const hostInUrl = host.includes(':') ? `[${host}]` : host;
      resolve({ url: `http://${hostInUrl}:${port}`, port, close: closer(server) });
    });
  });
}

function closer(server: Server): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () =>
    (closing ??= new Promise((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      // An SSE stream never ends by itself: cut every connection, which also stops each stream's poller.
      server.closeAllConnections();
    }));
}
