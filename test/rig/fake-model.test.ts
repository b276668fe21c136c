// The fake model server on its own, driven over HTTP the way the CLIs drive it (fake-model.e2e.test.ts runs
// the real CLIs against it).

import { afterEach, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer, type FakeModelServerOptions } from './fake-model/server.js';

const CLAUDE_TOOLS = [
  { name: 'Write', input_schema: { type: 'object', properties: { file_path: { type: 'string' }, content: { type: 'string' } } } },
  {
    name: 'Edit',
    input_schema: { type: 'object', properties: { file_path: {}, old_string: {}, new_string: {}, replace_all: { type: 'boolean' } } },
  },
  { name: 'Bash', input_schema: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] } },
];
const CLAUDE_SYSTEM = 'You are an agent.\n - Primary working directory: /home/dev/repo\n - Is a git repository: true';

let server: FakeModelServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(options: FakeModelServerOptions): Promise<FakeModelServer> {
  server = await startFakeModelServer(options);
  return server;
}

async function post(path: string, body: unknown): Promise<Response> {
  if (!server) throw new Error('no server');
  return fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'secret' }, body: JSON.stringify(body) });
}

/** The `data:` payloads of a server-sent event stream. */
async function sseData(response: Response): Promise<Record<string, unknown>[]> {
  const text = await response.text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => JSON.parse(line.slice(6)) as Record<string, unknown>);
}

function anthropicRequest(messages: unknown[], extra: Record<string, unknown> = {}) {
  return { model: 'fake-model', stream: true, system: [{ type: 'text', text: CLAUDE_SYSTEM }], tools: CLAUDE_TOOLS, messages, ...extra };
}

const USER = { role: 'user', content: 'create hello.txt' };
const ASSISTANT = { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'Write', input: {} }] };
const TOOL_RESULT = { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'ok' }] };

describe('Anthropic Messages API', () => {
  it('streams the scripted turn chosen by the conversation, with absolute paths and the scripted usage', async () => {
    await start({ script: [{ text: 'Writing.', tools: [{ tool: 'write_file', path: 'hello.txt', content: 'hi\n' }], usage: { input: 1000, output: 40 } }, { text: 'DONE' }] });
    const frames = await sseData(await post('/v1/messages?beta=true', anthropicRequest([USER])));
    expect(frames.map((frame) => frame.type)).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      ...Array(frames.length - 9).fill('content_block_delta'),
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const toolJson = frames
      .filter((frame) => frame.type === 'content_block_delta' && (frame.delta as { type: string }).type === 'input_json_delta')
      .map((frame) => (frame.delta as { partial_json: string }).partial_json)
      .join('');
    expect(JSON.parse(toolJson)).toEqual({ file_path: '/home/dev/repo/hello.txt', content: 'hi\n' });
    expect(frames.at(-2)).toMatchObject({ delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 40 } });
    expect(frames[0]).toMatchObject({ message: { usage: { input_tokens: 1000 } } });

    const final = await sseData(await post('/v1/messages', anthropicRequest([USER, ASSISTANT, TOOL_RESULT])));
    expect(final.at(-2)).toMatchObject({ delta: { stop_reason: 'end_turn' } });
    expect(final.filter((frame) => frame.type === 'content_block_delta').map((frame) => (frame.delta as { text: string }).text).join('')).toBe('DONE');
  });

  it('answers the same turn to a retried request, and side requests without tools do not consume turns', async () => {
    const fake = await start({ script: [{ text: 'first' }, { text: 'second' }], sideText: 'A title' });
    const side = await (await post('/v1/messages', { model: 'haiku', stream: false, messages: [USER] })).json();
    expect(side).toMatchObject({ content: [{ type: 'text', text: 'A title' }], stop_reason: 'end_turn' });
    for (let attempt = 0; attempt < 2; attempt++) {
      const reply = (await (await post('/v1/messages', anthropicRequest([USER], { stream: false }))).json()) as { content: { text: string }[] };
      expect(reply.content[0]?.text).toBe('first');
    }
    expect(fake.requests.map((request) => [request.kind, request.turn])).toEqual([
      ['side', null],
      ['turn', 0],
      ['turn', 0],
    ]);
    expect(fake.requests[0]?.headers['x-api-key']).toBe('[redacted]');
    expect(fake.requests[1]?.body).toMatchObject({ model: 'fake-model' });
  });

  it('injects errors with the API error body and rate-limit headers, then recovers after errorAttempts', async () => {
    await start({ script: [{ text: 'recovered', status: 429, errorAttempts: 1, retryAfterSeconds: 7 }] });
    const limited = await post('/v1/messages', anthropicRequest([USER]));
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(limited.headers.get('anthropic-ratelimit-requests-remaining')).toBe('0');
    expect(await limited.json()).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    expect((await post('/v1/messages', anthropicRequest([USER]))).status).toBe(200);
  });

  it('maps 529 to overloaded_error and 500 to api_error, for every request when errorAttempts is unset', async () => {
    await start({ script: [{ status: 529 }], knobs: {} });
    for (let attempt = 0; attempt < 3; attempt++) {
      const response = await post('/v1/messages', anthropicRequest([USER]));
      expect(response.status).toBe(529);
      expect(await response.json()).toMatchObject({ error: { type: 'overloaded_error' } });
    }
    server?.setScript([{ status: 500 }]);
    expect(await (await post('/v1/messages', anthropicRequest([USER]))).json()).toMatchObject({ error: { type: 'api_error' } });
  });

  it('answers count_tokens and the HEAD / probe', async () => {
    const fake = await start({});
    expect(await (await post('/v1/messages/count_tokens', { messages: [USER] })).json()).toHaveProperty('input_tokens');
    expect((await fetch(`${fake.url}/`, { method: 'HEAD' })).status).toBe(200);
    expect(fake.requests.map((request) => request.kind)).toEqual(['utility', 'utility']);
  });

  it('hangs after the headers when told to, until closed', async () => {
    const fake = await start({ script: [{ text: 'never', hang: true }] });
    const response = await post('/v1/messages', anthropicRequest([USER]));
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body?.getReader();
    const outcome = await Promise.race([reader?.read().then(() => 'data'), new Promise((resolve) => setTimeout(resolve, 300, 'stalled'))]);
    expect(outcome).toBe('stalled');
    await fake.close();
    server = undefined;
    await expect(reader?.read()).rejects.toThrow();
  });

  it('delays the response and spaces out stream frames', async () => {
    await start({ knobs: { delayMs: 200, chunkDelayMs: 20 }, script: [{ text: 'slow' }] });
    const started = Date.now();
    await (await post('/v1/messages', anthropicRequest([USER]))).text();
    // 200 ms before the headers, then 20 ms between each of the 7 frames (timers may fire a little early).
    expect(Date.now() - started).toBeGreaterThanOrEqual(200 + 6 * 20 - 15);
  });

  it('refuses a turn whose tool the CLI did not offer, saying why', async () => {
    const fake = await start({ script: [{ tools: [{ tool: 'shell', command: 'true' }] }] });
    const response = await post('/v1/messages', anthropicRequest([USER], { tools: [CLAUDE_TOOLS[0]] }));
    expect(response.status).toBe(400);
    expect(fake.requests[0]?.error).toMatch(/no shell tool/);
  });

  it('translates edits and shell steps into the offered tools (OpenCode names)', async () => {
    await start({
      script: [
        {
          tools: [
            { tool: 'edit_file', path: 'a.txt', old: 'x', new: 'y' },
            { tool: 'shell', command: 'ls' },
          ],
        },
      ],
    });
    const tools = [
      { name: 'edit', input_schema: { properties: { filePath: {}, oldString: {}, newString: {} } } },
      { name: 'bash', input_schema: { properties: { command: {}, workdir: {} } } },
    ];
    const system = [{ type: 'text', text: '<env>\n  Working directory: /tmp/oc\n</env>' }];
    const reply = (await (await post('/v1/messages', { model: 'm', stream: false, tools, system, messages: [USER] })).json()) as {
      content: { name: string; input: unknown }[];
    };
    expect(reply.content.map((block) => [block.name, block.input])).toEqual([
      ['edit', { filePath: '/tmp/oc/a.txt', oldString: 'x', newString: 'y' }],
      ['bash', { command: 'ls' }],
    ]);
  });
});

describe('OpenAI Responses API', () => {
  const codexTools = [
    { type: 'function', name: 'exec_command', parameters: { type: 'object', properties: { cmd: { type: 'string' } }, required: ['cmd'] } },
  ];
  const context = { type: 'message', role: 'user', content: [{ type: 'input_text', text: '<environment_context>\n  <cwd>/srv/repo</cwd>\n</environment_context>' }] };

  it('writes files through apply_patch heredocs in exec_command and counts turns from the input items', async () => {
    await start({ script: [{ tools: [{ tool: 'write_file', path: 'hello.txt', content: 'hi\n' }], usage: { input: 500, output: 20 } }, { text: 'DONE' }] });
    const frames = await sseData(await post('/v1/responses', { model: 'm', stream: true, tools: codexTools, input: [context] }));
    expect(frames[0]?.type).toBe('response.created');
    const call = frames.find((frame) => frame.type === 'response.output_item.done')?.item as { name: string; arguments: string };
    expect(call.name).toBe('exec_command');
    expect(JSON.parse(call.arguments)).toEqual({
      cmd: "apply_patch <<'ORCH_FAKE_MODEL_PATCH_END'\n*** Begin Patch\n*** Add File: /srv/repo/hello.txt\n+hi\n*** End Patch\nORCH_FAKE_MODEL_PATCH_END",
    });
    expect(frames.at(-1)).toMatchObject({ type: 'response.completed', response: { usage: { input_tokens: 500, output_tokens: 20 } } });

    const input = [context, { type: 'function_call', call_id: 'c1', name: 'exec_command', arguments: '{}' }, { type: 'function_call_output', call_id: 'c1', output: 'ok' }];
    const final = await sseData(await post('/v1/responses', { model: 'm', stream: true, tools: codexTools, input }));
    expect(final.find((frame) => frame.type === 'response.output_text.done')).toMatchObject({ text: 'DONE' });
  });

  it('sends the OpenAI error body and x-ratelimit headers on 429', async () => {
    await start({ script: [{ status: 429 }] });
    const response = await post('/v1/responses', { model: 'm', stream: true, tools: codexTools, input: [context] });
    expect(response.status).toBe(429);
    expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(await response.json()).toMatchObject({ error: { code: 'rate_limit_exceeded' } });
  });
});

describe('Gemini API', () => {
  const tools = [
    {
      functionDeclarations: [
        { name: 'write_file', parametersJsonSchema: { type: 'object', properties: { file_path: {}, content: {} } } },
        { name: 'replace', parametersJsonSchema: { properties: { file_path: {}, instruction: {}, old_string: {}, new_string: {} }, required: ['file_path', 'instruction', 'old_string', 'new_string'] } },
      ],
    },
  ];
  const contents = [{ role: 'user', parts: [{ text: '- **Workspace Directories:**\n  - /g/repo\n' }, { text: 'go' }] }];

  it('streams function calls with filled-in required parameters, then the final text', async () => {
    await start({ script: [{ tools: [{ tool: 'edit_file', path: 'a.txt', old: 'x', new: 'y' }] }, { text: 'DONE' }] });
    const frames = await sseData(await post('/v1beta/models/fake-gemini:streamGenerateContent?alt=sse', { contents, tools }));
    expect(frames.at(-1)).toMatchObject({
      candidates: [
        {
          content: { role: 'model', parts: [{ functionCall: { name: 'replace', args: { file_path: '/g/repo/a.txt', old_string: 'x', new_string: 'y' } } }] },
          finishReason: 'STOP',
        },
      ],
      usageMetadata: { promptTokenCount: 100, candidatesTokenCount: 10 },
    });
    const args = (frames.at(-1) as { candidates: { content: { parts: { functionCall: { args: Record<string, string> } }[] } }[] }).candidates[0]
      ?.content.parts[0]?.functionCall.args;
    expect(args?.instruction).toBeTypeOf('string');

    const next = [...contents, { role: 'model', parts: [{ functionCall: { name: 'replace', args: {} } }] }, { role: 'user', parts: [{ functionResponse: { name: 'replace', response: {} } }] }];
    const reply = await (await post('/v1beta/models/fake-gemini:generateContent', { contents: next, tools })).json();
    expect(reply).toMatchObject({ candidates: [{ content: { parts: [{ text: 'DONE' }] }, finishReason: 'STOP' }] });
  });

  it('sends RESOURCE_EXHAUSTED with RetryInfo on 429', async () => {
    await start({ script: [{ status: 429, retryAfterSeconds: 3 }] });
    const response = await post('/v1beta/models/m:streamGenerateContent?alt=sse', { contents, tools });
    expect(response.status).toBe(429);
    expect(await response.json()).toMatchObject({ error: { status: 'RESOURCE_EXHAUSTED', details: [{ retryDelay: '3s' }] } });
  });
});

it('answers 404 to routes no API has, and records them', async () => {
  const fake = await start({});
  expect((await fetch(`${fake.url}/npm-registry/some-package`)).status).toBe(404);
  expect(fake.requests[0]).toMatchObject({ kind: 'unmatched', api: null, status: 404 });
});

it('waitForRequest resolves on a classified request', async () => {
  const fake = await start({ script: [{ text: 'x' }] });
  const waiting = fake.waitForRequest((request) => request.kind === 'turn' && request.turn === 0, 5_000);
  await post('/v1/messages', anthropicRequest([USER]));
  expect((await waiting).path).toBe('/v1/messages');
});
