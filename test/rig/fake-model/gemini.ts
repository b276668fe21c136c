// The Gemini API as Gemini CLI calls it: POST /v1beta/models/{model}:streamGenerateContent?alt=sse (data-only
// server-sent events) and :generateContent (one JSON answer). Tool results come back as `functionResponse` parts.

import { chunkText, sendJson, streamFrames, type StreamFrame } from './http-io.js';
import type { ModelApi } from './model-api.js';
import { collectStrings, countModelRuns, isRecord, offeredTool, type ModelReply, type OfferedTool } from './model-request.js';

const MODEL_ROUTE = /^\/v1(?:beta|alpha)?\/models\/([^/:]+):(streamGenerateContent|generateContent|countTokens)$/;

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

export const geminiApi: ModelApi = {
  name: 'gemini',
  shellRunsApplyPatch: false,

  answerUtility(method, url, body, response) {
    const route = MODEL_ROUTE.exec(url.pathname);
    if (method !== 'POST' || route?.[2] !== 'countTokens') return false;
    sendJson(response, 200, { totalTokens: Math.ceil(JSON.stringify(body ?? '').length / 4) });
    return true;
  },

  readRequest(method, url, body) {
    const route = MODEL_ROUTE.exec(url.pathname);
    if (method !== 'POST' || !route || route[2] === 'countTokens' || !isRecord(body)) return null;
    const contents = Array.isArray(body.contents) ? body.contents : [];
    return {
      model: decodeURIComponent(route[1] ?? 'fake-gemini'),
      stream: route[2] === 'streamGenerateContent',
      tools: offeredTools(body.tools),
      completedTurns: countModelRuns(contents, (content) => isRecord(content) && content.role === 'model'),
      texts: collectStrings([body.systemInstruction, contents]),
    };
  },

  async writeReply(response, request, reply, chunkDelayMs) {
    const envelope = { modelVersion: request.model, responseId: `fake_${request.completedTurns + 1}` };
    if (!request.stream) {
      sendJson(response, 200, { candidates: [candidate(allParts(reply), true)], usageMetadata: usageMetadata(reply), ...envelope });
      return;
    }
    const chunks = partChunks(reply);
    const frames: StreamFrame[] = chunks.map((parts, index) => {
      const last = index === chunks.length - 1;
      return { data: { candidates: [candidate(parts, last)], ...(last ? { usageMetadata: usageMetadata(reply) } : {}), ...envelope } };
    });
    await streamFrames(response, frames, chunkDelayMs);
  },

  writeError(response, error) {
    const status = STATUS_NAMES[error.status] ?? (error.status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION');
    const details =
      error.status === 429
        ? [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${error.retryAfterSeconds}s` }]
        : [];
    const headers: Record<string, string> = error.status === 429 ? { 'retry-after': String(error.retryAfterSeconds) } : {};
    sendJson(response, error.status, { error: { code: error.status, message: error.message, status, details } }, headers);
  },
};

function offeredTools(tools: unknown): OfferedTool[] {
  const offered: OfferedTool[] = [];
  for (const group of Array.isArray(tools) ? tools : []) {
    if (!isRecord(group) || !Array.isArray(group.functionDeclarations)) continue;
    for (const declaration of group.functionDeclarations) {
      if (!isRecord(declaration) || typeof declaration.name !== 'string') continue;
      offered.push(offeredTool(declaration.name, declaration.parametersJsonSchema ?? declaration.parameters));
    }
  }
  return offered;
}

type Part = { text: string } | { functionCall: { name: string; args: unknown } };

function callParts(reply: ModelReply): Part[] {
  return reply.calls.map((call) => ({ functionCall: { name: call.name, args: call.input } }));
}

/** A whole answer: the text in one part, then the calls. */
function allParts(reply: ModelReply): Part[] {
  const parts = [...(reply.text === null ? [] : [{ text: reply.text }]), ...callParts(reply)];
  return parts.length > 0 ? parts : [{ text: '' }];
}

/** A streamed answer: the text over several chunks, then each call whole in a chunk of its own, as the real API sends them. */
function partChunks(reply: ModelReply): Part[][] {
  const textChunks = reply.text === null ? [] : chunkText(reply.text).map((text) => [{ text }]);
  const chunks = [...textChunks, ...callParts(reply).map((part) => [part])];
  return chunks.length > 0 ? chunks : [[{ text: '' }]];
}

function candidate(parts: Part[], last: boolean): Record<string, unknown> {
  return { content: { role: 'model', parts }, index: 0, ...(last ? { finishReason: 'STOP' } : {}) };
}

function usageMetadata(reply: ModelReply): Record<string, number> {
  return {
    promptTokenCount: reply.usage.input,
    candidatesTokenCount: reply.usage.output,
    totalTokenCount: reply.usage.input + reply.usage.output,
  };
}
