// The OpenAI Responses API as Codex calls it: POST /v1/responses, streamed as typed server-sent events.
// A tool result comes back as a `function_call_output` item in the next request's `input`.

import { chunkText, sendJson, streamFrames, type StreamFrame } from './http-io.js';
import type { ErrorReply, ModelApi } from './model-api.js';
import {
  collectStrings,
  countModelRuns,
  isRecord,
  offeredTool,
  type ModelReply,
  type OfferedTool,
  type ToolCall,
} from './model-request.js';

/** Input items the model produced, as opposed to the user's messages and tool outputs. */
const MODEL_ITEM_TYPES = new Set(['function_call', 'custom_tool_call', 'local_shell_call', 'reasoning', 'web_search_call']);

export const openAiResponsesApi: ModelApi = {
  name: 'openai-responses',
  shellRunsApplyPatch: true,

  answerUtility() {
    return false;
  },

  readRequest(method, url, body) {
    if (method !== 'POST' || !url.pathname.endsWith('/responses') || !isRecord(body)) return null;
    const input = Array.isArray(body.input) ? body.input : [];
    return {
      model: typeof body.model === 'string' ? body.model : 'fake-model',
      stream: body.stream === true,
      tools: offeredTools(body.tools),
      completedTurns: countModelRuns(input, isModelItem),
      texts: collectStrings([body.instructions, input]),
    };
  },

  async writeReply(response, request, reply, chunkDelayMs) {
    const responseId = `resp_fake_${request.completedTurns + 1}`;
    const items = outputItems(reply);
    const envelope = { id: responseId, object: 'response', created_at: Math.floor(Date.now() / 1000), model: request.model };
    const completed = { ...envelope, status: 'completed', output: items.map((item) => item.done), usage: usageOf(reply) };
    if (!request.stream) {
      sendJson(response, 200, completed);
      return;
    }
    const frames: StreamFrame[] = [{ event: 'response.created', data: { response: { ...envelope, status: 'in_progress', output: [] } } }];
    items.forEach((item, outputIndex) => frames.push(...item.frames(outputIndex)));
    frames.push({ event: 'response.completed', data: { response: completed } });
    const numbered = frames.map((frame, sequence) => ({
      event: frame.event,
      data: { type: frame.event, sequence_number: sequence, ...(frame.data as object) },
    }));
    await streamFrames(response, numbered, chunkDelayMs);
  },

  writeError(response, error) {
    const rateLimited = error.status === 429;
    const body = {
      error: {
        message: error.message,
        type: rateLimited ? 'requests' : error.status >= 500 ? 'server_error' : 'invalid_request_error',
        param: null,
        code: rateLimited ? 'rate_limit_exceeded' : null,
      },
    };
    sendJson(response, error.status, body, rateLimited ? rateLimitHeaders(error) : {});
  },
};

function isModelItem(item: unknown): boolean {
  if (!isRecord(item)) return false;
  if (item.type === 'message' || item.type === undefined) return item.role === 'assistant';
  return typeof item.type === 'string' && MODEL_ITEM_TYPES.has(item.type);
}

function offeredTools(tools: unknown): OfferedTool[] {
  const offered: OfferedTool[] = [];
  for (const tool of Array.isArray(tools) ? tools : []) {
    if (!isRecord(tool) || typeof tool.name !== 'string') continue;
    if (tool.type === 'function') offered.push(offeredTool(tool.name, tool.parameters));
    if (tool.type === 'custom') offered.push({ ...offeredTool(tool.name, {}), freeform: true });
  }
  return offered;
}

interface OutputItem {
  /** The item as `response.output_item.done` and `response.completed` show it. */
  done: Record<string, unknown>;
  frames(outputIndex: number): StreamFrame[];
}

function outputItems(reply: ModelReply): OutputItem[] {
  const items: OutputItem[] = [];
  if (reply.text !== null) items.push(messageItem(reply.text));
  for (const call of reply.calls) items.push(typeof call.input === 'string' ? customToolCallItem(call, call.input) : functionCallItem(call));
  return items;
}

function messageItem(text: string): OutputItem {
  const id = 'msg_fake_output';
  const part = { type: 'output_text', text, annotations: [] };
  const done = { id, type: 'message', status: 'completed', role: 'assistant', content: [part] };
  return {
    done,
    frames: (output_index) => [
      { event: 'response.output_item.added', data: { output_index, item: { ...done, status: 'in_progress', content: [] } } },
      { event: 'response.content_part.added', data: { item_id: id, output_index, content_index: 0, part: { ...part, text: '' } } },
      ...chunkText(text).map((delta) => ({
        event: 'response.output_text.delta',
        data: { item_id: id, output_index, content_index: 0, delta },
      })),
      { event: 'response.output_text.done', data: { item_id: id, output_index, content_index: 0, text } },
      { event: 'response.content_part.done', data: { item_id: id, output_index, content_index: 0, part } },
      { event: 'response.output_item.done', data: { output_index, item: done } },
    ],
  };
}

function functionCallItem(call: ToolCall): OutputItem {
  const id = `fc_${call.id}`;
  const args = JSON.stringify(call.input);
  const done = { id, type: 'function_call', status: 'completed', call_id: call.id, name: call.name, arguments: args };
  return {
    done,
    frames: (output_index) => [
      { event: 'response.output_item.added', data: { output_index, item: { ...done, status: 'in_progress', arguments: '' } } },
      ...chunkText(args).map((delta) => ({ event: 'response.function_call_arguments.delta', data: { item_id: id, output_index, delta } })),
      { event: 'response.function_call_arguments.done', data: { item_id: id, output_index, arguments: args } },
      { event: 'response.output_item.done', data: { output_index, item: done } },
    ],
  };
}

function customToolCallItem(call: ToolCall, input: string): OutputItem {
  const id = `ctc_${call.id}`;
  const done = { id, type: 'custom_tool_call', status: 'completed', call_id: call.id, name: call.name, input };
  return {
    done,
    frames: (output_index) => [
      { event: 'response.output_item.added', data: { output_index, item: { ...done, status: 'in_progress', input: '' } } },
      { event: 'response.custom_tool_call_input.done', data: { item_id: id, output_index, input } },
      { event: 'response.output_item.done', data: { output_index, item: done } },
    ],
  };
}

function usageOf(reply: ModelReply): Record<string, unknown> {
  return {
    input_tokens: reply.usage.input,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: reply.usage.output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: reply.usage.input + reply.usage.output,
  };
}

function rateLimitHeaders(error: ErrorReply): Record<string, string> {
  const reset = `${error.retryAfterSeconds}s`;
  return {
    'retry-after': String(error.retryAfterSeconds),
    'x-ratelimit-limit-requests': '1000',
    'x-ratelimit-remaining-requests': '0',
    'x-ratelimit-reset-requests': reset,
    'x-ratelimit-limit-tokens': '1000000',
    'x-ratelimit-remaining-tokens': '0',
    'x-ratelimit-reset-tokens': reset,
  };
}
