// Loopback stand-ins for the HTTP channels Orch notifies: a Slack and a Discord incoming webhook, the
// Telegram bot API, an ntfy server and a generic webhook, each answering as the real one does (Slack
// "ok", Discord 204, Telegram {ok: true}, ntfy the published message). What each received is kept.

import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type HttpChannelKind = 'slack' | 'discord' | 'telegram' | 'ntfy' | 'webhook';

export interface ReceivedPost {
  kind: HttpChannelKind;
  path: string;
  headers: IncomingMessage['headers'];
  /** The raw body, as signed. */
  body: string;
  json: Record<string, unknown>;
}

export interface HttpReceivers {
  /** http://127.0.0.1:PORT */
  url: string;
  /** Where each kind's endpoint is (pass these in the channel's config). */
  endpoints: { slack: string; discord: string; telegramApi: string; ntfyServer: string; webhook: string };
  received: ReceivedPost[];
  of(kind: HttpChannelKind): ReceivedPost[];
  close(): Promise<void>;
}

export async function startHttpReceivers(): Promise<HttpReceivers> {
  const received: ReceivedPost[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = request.url ?? '/';
      const kind: HttpChannelKind | null = path.startsWith('/slack/')
        ? 'slack'
        : path.startsWith('/discord/')
          ? 'discord'
          : path.startsWith('/telegram/')
            ? 'telegram'
            : path.startsWith('/ntfy/')
              ? 'ntfy'
              : path.startsWith('/webhook')
                ? 'webhook'
                : null;
      if (request.method !== 'POST' || kind === null) {
        response.writeHead(404).end('no such endpoint');
        return;
      }
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(body) as Record<string, unknown>;
      } catch {
        response.writeHead(400).end('invalid JSON');
        return;
      }
      received.push({ kind, path, headers: request.headers, body, json });
      if (kind === 'slack') response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      else if (kind === 'discord') response.writeHead(204).end();
      else if (kind === 'telegram') response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, result: { message_id: received.length } }));
      else if (kind === 'ntfy') response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: String(received.length), event: 'message', topic: json.topic }));
      else response.writeHead(200).end();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    endpoints: { slack: `${url}/slack/T000/B000/secret`, discord: `${url}/discord/api/webhooks/1/secret`, telegramApi: `${url}/telegram`, ntfyServer: `${url}/ntfy`, webhook: `${url}/webhook` },
    received,
    of: (kind) => received.filter((post) => post.kind === kind),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
