// Small HTTP helpers shared by the fake APIs: body reading, JSON answers, server-sent event streams.

import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function parseJsonOrNull(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

export const EVENT_STREAM_HEADERS: OutgoingHttpHeaders = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
};

export interface StreamFrame {
  /** The SSE `event:` name; the Gemini API sends data-only frames. */
  event?: string;
  data: unknown;
}

/** Writes the frames as one server-sent event stream, pausing between frames; stops early if the client left. */
export async function streamFrames(
  response: ServerResponse,
  frames: StreamFrame[],
  chunkDelayMs: number,
  headers: OutgoingHttpHeaders = {},
): Promise<void> {
  response.writeHead(200, { ...EVENT_STREAM_HEADERS, ...headers });
  for (const [index, frame] of frames.entries()) {
    if (index > 0 && chunkDelayMs > 0) await sleep(chunkDelayMs);
    if (response.destroyed) return;
    const eventLine = frame.event === undefined ? '' : `event: ${frame.event}\n`;
    response.write(`${eventLine}data: ${JSON.stringify(frame.data)}\n\n`);
  }
  response.end();
}

/** Splits streamed text into a few pieces so clients exercise their delta handling. */
export function chunkText(text: string, size = 24): string[] {
  const pieces: string[] = [];
  for (let start = 0; start < text.length; start += size) pieces.push(text.slice(start, start + size));
  return pieces.length > 0 ? pieces : [''];
}
