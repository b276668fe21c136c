// One fake model server on 127.0.0.1 that speaks the Anthropic, OpenAI Responses and Gemini APIs at once, plays a
// script back turn by turn, and records every request for assertions.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { anthropicApi } from './anthropic.js';
import { geminiApi } from './gemini.js';
import { EVENT_STREAM_HEADERS, parseJsonOrNull, readBody, sendJson } from './http-io.js';
import type { ApiName, ModelApi } from './model-api.js';
import type { ModelReply, ModelRequest } from './model-request.js';
import { openAiResponsesApi } from './openai-responses.js';
import {
  DEFAULT_SIDE_TEXT,
  DEFAULT_USAGE,
  effectiveKnobs,
  toolSteps,
  turnAt,
  type ResponseKnobs,
  type Script,
  type ScriptTurn,
} from './script.js';
import { bindToolStep, ToolBindingError } from './tool-binding.js';
import { findWorkingDirectory } from './working-directory.js';

const APIS: ModelApi[] = [anthropicApi, openAiResponsesApi, geminiApi];

const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'x-api-key', 'x-goog-api-key', 'cookie']);

export interface FakeModelServerOptions {
  script?: Script;
  /** Defaults for every response, side requests included; a turn's own knobs override them. */
  knobs?: ResponseKnobs;
  /** The answer to requests without tools (titles, summaries) and to turns past the script's end. */
  sideText?: string;
  /** Resolves relative script paths when a request names no working directory. */
  workingDirectory?: string;
  /**
   * Picks the script for a request from its texts (system prompt, messages), so one server can play a
   * different script per task; undefined falls back to the server's script.
   */
  scriptFor?: (texts: readonly string[]) => Script | undefined;
}

/**
 * `turn`: a model request answered from the script (`turn` is its index, possibly past the script's end);
 * `side`: a model request without tools, answered with the side text; `utility`: HEAD /, token counting;
 * `unmatched`: answered 404.
 */
export type RequestKind = 'turn' | 'side' | 'utility' | 'unmatched';

export interface RecordedRequest {
  api: ApiName | null;
  method: string;
  /** Path with query string, e.g. `/v1/messages?beta=true`. */
  path: string;
  /** Lower-case names; credentials replaced by `[redacted]`. */
  headers: Record<string, string>;
  /** Parsed JSON, the raw text when it is not JSON, or null when empty. */
  body: unknown;
  kind: RequestKind;
  turn: number | null;
  /** The status answered; 200 for a response left hanging. */
  status: number | null;
  /** Why the server could not translate the turn's tool calls for this CLI. */
  error: string | null;
}

export interface FakeModelServer {
  /** `http://127.0.0.1:PORT`, without a trailing slash: append `/v1` where a CLI wants it. */
  url: string;
  port: number;
  /** Every request so far, in arrival order. */
  requests: RecordedRequest[];
  /** Replaces the script (and forgets how many errors each turn has served). */
  setScript(script: Script): void;
  /** Resolves with the first recorded request (already seen or future) that matches. */
  waitForRequest(predicate: (request: RecordedRequest) => boolean, timeoutMs?: number): Promise<RecordedRequest>;
  /** Stops listening and drops open connections, hanging responses included. */
  close(): Promise<void>;
}

export async function startFakeModelServer(options: FakeModelServerOptions = {}): Promise<FakeModelServer> {
  let script: Script = options.script ?? [];
  const serverKnobs = options.knobs ?? {};
  const sideText = options.sideText ?? DEFAULT_SIDE_TEXT;
  /** Error responses served per turn index, for `errorAttempts`. */
  const errorsServed = new Map<number, number>();
  const requests: RecordedRequest[] = [];
  const waiters = new Set<(request: RecordedRequest) => void>();

  /** Tells waiters about a request once it is classified (kind, turn), before it is answered. */
  function announce(entry: RecordedRequest): void {
    for (const waiter of waiters) waiter(entry);
  }

  async function answerModelRequest(api: ModelApi, request: ModelRequest, entry: RecordedRequest, response: ServerResponse): Promise<void> {
    const isSide = request.tools.length === 0;
    const turn = isSide ? null : turnAt(options.scriptFor?.(request.texts) ?? script, request.completedTurns);
    const knobs = isSide ? serverKnobs : effectiveKnobs(serverKnobs, turn);
    entry.kind = isSide ? 'side' : 'turn';
    entry.turn = isSide ? null : request.completedTurns;
    announce(entry);

    if (knobs.delayMs) await sleep(knobs.delayMs);
    if (knobs.status !== undefined && shouldFail(entry.turn, knobs)) {
      const message = knobs.errorMessage ?? `fake model server: injected HTTP ${knobs.status}`;
      api.writeError(response, { status: knobs.status, message, retryAfterSeconds: knobs.retryAfterSeconds ?? 1 });
      return;
    }
    if (knobs.hang) {
      response.writeHead(200, request.stream ? EVENT_STREAM_HEADERS : { 'content-type': 'application/json' });
      response.flushHeaders();
      return;
    }
    let reply: ModelReply;
    try {
      reply = buildReply(api, request, turn, knobs);
    } catch (error) {
      if (!(error instanceof ToolBindingError)) throw error;
      entry.error = error.message;
      api.writeError(response, { status: 400, message: `fake model server: ${error.message}`, retryAfterSeconds: 1 });
      return;
    }
    await api.writeReply(response, request, reply, knobs.chunkDelayMs ?? 0);
  }

  function shouldFail(turnIndex: number | null, knobs: ResponseKnobs): boolean {
    if (turnIndex === null || knobs.errorAttempts === undefined) return true;
    const served = errorsServed.get(turnIndex) ?? 0;
    if (served >= knobs.errorAttempts) return false;
    errorsServed.set(turnIndex, served + 1);
    return true;
  }

  function buildReply(api: ModelApi, request: ModelRequest, turn: ScriptTurn | null, knobs: ResponseKnobs): ModelReply {
    const usage = knobs.usage ?? DEFAULT_USAGE;
    if (turn === null) return { text: sideText, calls: [], usage };
    const context = {
      tools: request.tools,
      workingDirectory: findWorkingDirectory(request.texts) ?? options.workingDirectory ?? null,
      shellRunsApplyPatch: api.shellRunsApplyPatch,
    };
    const calls = toolSteps(turn).map((step, index) =>
      bindToolStep(step, `toolu_fake_${request.completedTurns + 1}_${index + 1}`, context),
    );
    const text = 'text' in turn ? (turn.text ?? null) : calls.length === 0 ? sideText : null;
    return { text, calls, usage };
  }

  async function handle(incoming: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(incoming.url ?? '/', 'http://127.0.0.1');
    const method = incoming.method ?? 'GET';
    const body = parseJsonOrNull(await readBody(incoming));
    const entry: RecordedRequest = {
      api: null,
      method,
      path: url.pathname + url.search,
      headers: redact(incoming.headers),
      body,
      kind: 'unmatched',
      turn: null,
      status: null,
      error: null,
    };
    requests.push(entry);
    response.on('finish', () => (entry.status = response.statusCode));
    for (const api of APIS) {
      if (api.answerUtility(method, url, body, response)) {
        Object.assign(entry, { api: api.name, kind: 'utility' });
        announce(entry);
        return;
      }
      const request = api.readRequest(method, url, body);
      if (request) {
        entry.api = api.name;
        await answerModelRequest(api, request, entry, response);
        if (!response.writableEnded) entry.status = response.statusCode;
        return;
      }
    }
    announce(entry);
    sendJson(response, 404, { error: { message: `fake model server: no route for ${method} ${url.pathname}` } });
  }

  const server = createServer((incoming, response) => {
    handle(incoming, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, { error: { message: String(error) } });
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    setScript(next) {
      script = next;
      errorsServed.clear();
    },
    waitForRequest(predicate, timeoutMs = 30_000) {
      const seen = requests.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`fake model server: no matching request within ${timeoutMs} ms`));
        }, timeoutMs);
        const waiter = (request: RecordedRequest): void => {
          if (!predicate(request)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(request);
        };
        waiters.add(waiter);
      });
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function redact(headers: IncomingMessage['headers']): Record<string, string> {
  const redacted: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    redacted[name] = SECRET_HEADERS.has(name) ? '[redacted]' : Array.isArray(value) ? value.join(', ') : value;
  }
  return redacted;
}
