// The Anthropic Messages API as Claude Code and OpenCode call it: POST /v1/messages (SSE or JSON),
// POST /v1/messages/count_tokens, and the HEAD / reachability probe.

import { chunkText, sendJson, streamFrames, type StreamFrame } from './http-io.js';
import type { ErrorReply, ModelApi } from './model-api.js';
import { collectStrings, countModelRuns, isRecord, offeredTool, type ModelReply, type ModelRequest } from './model-request.js';

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  529: 'overloaded_error',
};

export const anthropicApi: ModelApi = {
  name: 'anthropic',
  shellRunsApplyPatch: false,

  answerUtility(method, url, body, response) {
    if ((method === 'HEAD' || method === 'GET') && url.pathname === '/') {
      response.writeHead(200).end();
      return true;
    }
    if (method === 'POST' && url.pathname === '/v1/messages/count_tokens') {
      sendJson(response, 200, { input_tokens: Math.ceil(JSON.stringify(body ?? '').length / 4) });
      return true;
    }
    return false;
  },

  readRequest(method, url, body) {
    if (method !== 'POST' || url.pathname !== '/v1/messages' || !isRecord(body)) return null;
    const messages = Array.isArray(body.messages) ? body.messages : [];
    const tools = (Array.isArray(body.tools) ? body.tools : [])
      .filter(isRecord)
      .filter((tool) => typeof tool.name === 'string')
      .map((tool) => offeredTool(tool.name as string, tool.input_schema));
    return {
      model: typeof body.model === 'string' ? body.model : 'fake-model',
      stream: body.stream === true,
      tools,
      completedTurns: countModelRuns(messages, (message) => isRecord(message) && message.role === 'assistant'),
      texts: collectStrings([body.system, messages]),
    };
  },

  async writeReply(response, request, reply, chunkDelayMs) {
    const id = `msg_fake_${request.completedTurns + 1}`;
    const stopReason = reply.calls.length > 0 ? 'tool_use' : 'end_turn';
    const headers = { 'request-id': `req_fake_${id}` };
    if (!request.stream) {
      sendJson(response, 200, { ...messageEnvelope(id, request, reply), content: contentBlocks(reply), stop_reason: stopReason }, headers);
      return;
    }
    const frames: StreamFrame[] = [
      { event: 'message_start', data: { type: 'message_start', message: { ...messageEnvelope(id, request, reply), content: [], stop_reason: null } } },
      { event: 'ping', data: { type: 'ping' } },
    ];
    contentBlocks(reply).forEach((block, index) => frames.push(...blockFrames(block, index)));
    frames.push(
      {
        event: 'message_delta',
        data: { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: reply.usage.output } },
      },
      { event: 'message_stop', data: { type: 'message_stop' } },
    );
    await streamFrames(response, frames, chunkDelayMs, headers);
  },

  writeError(response, error) {
    const type = ERROR_TYPES[error.status] ?? 'api_error';
    sendJson(response, error.status, { type: 'error', error: { type, message: error.message }, request_id: 'req_fake_error' }, errorHeaders(error));
  },
};

type ContentBlock = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: unknown };

function contentBlocks(reply: ModelReply): ContentBlock[] {
  const blocks: ContentBlock[] = reply.text === null ? [] : [{ type: 'text', text: reply.text }];
  for (const call of reply.calls) blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: call.input });
  return blocks;
}

function messageEnvelope(id: string, request: ModelRequest, reply: ModelReply): Record<string, unknown> {
  return {
    id,
    type: 'message',
    role: 'assistant',
    model: request.model,
    stop_sequence: null,
    usage: { input_tokens: reply.usage.input, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  };
}

function blockFrames(block: ContentBlock, index: number): StreamFrame[] {
  const start =
    block.type === 'text' ? { type: 'text', text: '' } : { type: 'tool_use', id: block.id, name: block.name, input: {} };
  const deltas =
    block.type === 'text'
      ? chunkText(block.text).map((text) => ({ type: 'text_delta', text }))
      : chunkText(JSON.stringify(block.input)).map((partial_json) => ({ type: 'input_json_delta', partial_json }));
  return [
    { event: 'content_block_start', data: { type: 'content_block_start', index, content_block: start } },
    ...deltas.map((delta) => ({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta } })),
    { event: 'content_block_stop', data: { type: 'content_block_stop', index } },
  ];
}

/** The headers a real 429 / 529 carries, so clients' rate-limit handling sees what it would in production. */
function errorHeaders(error: ErrorReply): Record<string, string> {
  const headers: Record<string, string> = { 'request-id': 'req_fake_error' };
  if (error.status !== 429 && error.status !== 529) return headers;
  headers['retry-after'] = String(error.retryAfterSeconds);
  if (error.status === 429) {
    const reset = new Date(Date.now() + error.retryAfterSeconds * 1000).toISOString();
    for (const limit of ['requests', 'tokens', 'input-tokens', 'output-tokens']) {
      headers[`anthropic-ratelimit-${limit}-limit`] = '1000';
      headers[`anthropic-ratelimit-${limit}-remaining`] = '0';
      headers[`anthropic-ratelimit-${limit}-reset`] = reset;
    }
  }
  return headers;
}
