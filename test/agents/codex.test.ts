import { describe, expect, it } from 'vitest';
import { codexAdapter } from '../../src/agents/codex.js';
import { RUN_HOME, agentConfig, flagValue, flagValues, runSpec } from './fixtures.js';

const invoke = (spec = runSpec(), agent = agentConfig('codex')) => codexAdapter.invocation(spec, agent);

describe('codex invocation', () => {
  it('runs exec --json in the workspace-write sandbox, plugins and analytics off, the prompt on stdin (-)', () => {
    const { command, args } = invoke();
    expect(command).toBe('/opt/bin/codex');
    expect(args).toEqual(['exec', '--json', '-s', 'workspace-write', '--disable', 'plugins', '-c', 'analytics.enabled=false', '-']);
    expect(invoke().stdin).toBe('Fix the failing test');
  });

  it('keeps HOME and CODEX_HOME inside the run home, and makes sure CODEX_HOME exists', () => {
    const { env, files } = invoke();
    expect(env.HOME).toBe(RUN_HOME);
    expect(env.CODEX_HOME).toBe(`${RUN_HOME}/.codex`);
    expect(files.map((f) => f.path)).toEqual(['.codex/config.toml']);
  });

  it.each([
    ['read-only', 'read-only'],
    ['edit', 'workspace-write'],
    ['full', 'danger-full-access'],
  ] as const)('maps permission mode %s to sandbox %s', (mode, sandbox) => {
    expect(flagValue(invoke(runSpec({ tools: { mode } })).args, '-s')).toBe(sandbox);
  });

  it('makes writable directories writable roots of the workspace sandbox', () => {
    const { args } = invoke(runSpec({ tools: { mode: 'edit', writableDirs: ['/data/a', '/data/"quoted"'] } }));
    expect(flagValues(args, '-c')).toContain('sandbox_workspace_write.writable_roots=["/data/a","/data/\\"quoted\\""]');
  });

  it('asks for the model with -m', () => {
    expect(flagValue(invoke(runSpec({ model: 'gpt-5' })).args, '-m')).toBe('gpt-5');
    expect(invoke().args).not.toContain('-m');
  });

  it('resumes a thread with exec options before `resume` and the sandbox repeated as config', () => {
    const { args } = invoke(runSpec({ resumeSessionId: 'thread-1', tools: { mode: 'read-only' } }), agentConfig('codex', { args: ['--skip-git-repo-check'] }));
    const resumeAt = args.indexOf('resume');
    expect(args.slice(resumeAt)).toEqual(['resume', 'thread-1', '-']);
    expect(args.indexOf('-s')).toBeLessThan(resumeAt);
    expect(args.indexOf('--skip-git-repo-check')).toBeLessThan(resumeAt);
    expect(flagValues(args, '-c')).toContain('sandbox_mode="read-only"');
  });

  it('points codex at the server in ORCH_CODEX_BASE_URL as provider "orch"', () => {
    const spec = runSpec({ env: { ORCH_CODEX_BASE_URL: 'http://127.0.0.1:4321/v1', ORCH_CODEX_API_KEY_ENV: 'FAKE_KEY', FAKE_KEY: 'x', ORCH_CODEX_MAX_RETRIES: '0' } });
    const config = flagValues(invoke(spec, agentConfig('codex', { model: 'fake-model' })).args, '-c');
    expect(config).toEqual(
      expect.arrayContaining([
        'model_provider="orch"',
        'model_providers.orch.name="orch"',
        'model_providers.orch.base_url="http://127.0.0.1:4321/v1"',
        'model_providers.orch.env_key="FAKE_KEY"',
        'model_providers.orch.wire_api="responses"',
        'model_providers.orch.request_max_retries=0',
        'model_providers.orch.stream_max_retries=0',
      ]),
    );
  });

  it('reads the API key from OPENAI_API_KEY by default and leaves retries alone', () => {
    const config = flagValues(invoke(runSpec({ env: { ORCH_CODEX_BASE_URL: 'http://127.0.0.1:1/v1' } })).args, '-c');
    expect(config).toContain('model_providers.orch.env_key="OPENAI_API_KEY"');
    expect(config.some((c) => c.includes('max_retries'))).toBe(false);
  });

  it('prepends the system prompt addition to the prompt in a delimited section', () => {
    const { stdin } = invoke(runSpec({ systemPromptAppend: 'Always run the tests.' }));
    expect(stdin).toBe('<orch-instructions>\nAlways run the tests.\n</orch-instructions>\n\n<task>\nFix the failing test\n</task>');
  });
});

describe('codex stream parser', () => {
  const parse = (...lines: object[]) => {
    const parser = codexAdapter.createParser();
    return lines.flatMap((line) => parser(JSON.stringify(line)));
  };

  it('announces a command once, when it starts, and reports a failing exit as an error result', () => {
    const item = { id: 'item_1', type: 'command_execution', command: 'npm test', aggregated_output: '1 failed', exit_code: 1 };
    const events = parse({ type: 'item.started', item: { ...item, exit_code: null, status: 'in_progress' } }, { type: 'item.completed', item: { ...item, status: 'completed' } });
    expect(events).toEqual([
      { type: 'tool_call', id: 'item_1', name: 'shell', input: { command: 'npm test' } },
      { type: 'tool_result', id: 'item_1', output: '1 failed', isError: true },
    ]);
  });

  it('reports MCP tool calls by server and tool', () => {
    const events = parse({ type: 'item.completed', item: { id: 'i', type: 'mcp_tool_call', server: 'docs', tool: 'search', arguments: { q: 'x' }, status: 'completed', result: { ok: 1 } } });
    expect(events).toEqual([
      { type: 'tool_call', id: 'i', name: 'docs/search', input: { q: 'x' } },
      { type: 'tool_result', id: 'i', output: '{"ok":1}', isError: false },
    ]);
  });

  it('treats the model-metadata warning as benign but other error items as errors', () => {
    expect(parse({ type: 'item.completed', item: { type: 'error', message: 'Model metadata for `m` not found. Defaulting…' } })[0]?.type).toBe('unparsed');
    expect(parse({ type: 'item.completed', item: { type: 'error', message: 'sandbox denied write' } })).toEqual([
      { type: 'error', kind: 'other', message: 'sandbox denied write', status: null },
    ]);
  });

  it('turns a 429 into a rate_limit event and reports turn.failed once', () => {
    const message = 'exceeded retry limit, last status: 429 Too Many Requests';
    const events = parse({ type: 'error', message }, { type: 'turn.failed', error: { message } });
    expect(events).toEqual([
      { type: 'rate_limit', message, retryAfterMs: null },
      { type: 'error', kind: 'rate_limit', message, status: 429 },
      { type: 'result', ok: false, text: message, subtype: 'turn.failed', turns: null },
    ]);
  });

  it('counts cached input apart from uncached input', () => {
    const [usage] = parse({ type: 'turn.completed', usage: { input_tokens: 1000, cached_input_tokens: 600, output_tokens: 20 } });
    expect(usage).toEqual({ type: 'usage', inputTokens: 400, outputTokens: 20, cacheReadTokens: 600, cacheWriteTokens: 0, model: null, cumulative: true });
  });
});
