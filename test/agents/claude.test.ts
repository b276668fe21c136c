import { describe, expect, it } from 'vitest';
import { claudeAdapter } from '../../src/agents/claude.js';
import { classifyRunEnd, summarizeRunEvents } from '../../src/core/outcome.js';
import { RUN_HOME, agentConfig, flagValue, runSpec } from './fixtures.js';

const invoke = (spec = runSpec(), agent = agentConfig('claude')) => claudeAdapter.invocation(spec, agent);

/** The values of a flag that takes several (up to the next option or `--`). */
function listAfter(args: string[], flag: string): string[] {
  const at = args.indexOf(flag);
  if (at === -1) return [];
  const rest = args.slice(at + 1);
  const end = rest.findIndex((arg) => arg.startsWith('-'));
  return end === -1 ? rest : rest.slice(0, end);
}

describe('claude invocation', () => {
  it('runs the configured executable in print mode with stream-json, the prompt on stdin', () => {
    const { command, args, stdin } = invoke();
    expect(command).toBe('/opt/bin/claude');
    expect(args.slice(0, 4)).toEqual(['-p', '--output-format', 'stream-json', '--verbose']);
    expect(stdin).toBe('Fix the failing test');
    expect(args.join(' ')).not.toContain('Fix the failing test');
  });

  it('keeps each run in its own HOME and config dir and quiets non-essential traffic', () => {
    const { env, files } = invoke();
    expect(env.HOME).toBe(RUN_HOME);
    expect(env.CLAUDE_CONFIG_DIR).toBe(`${RUN_HOME}/.claude`);
    expect(env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC).toBe('1');
    expect(env.ANTHROPIC_API_KEY).toBe('test-key');
    expect(files).toEqual([]);
  });

  it('lets no environment override the run isolation, but lets a user re-enable traffic', () => {
    const spec = runSpec({ env: { HOME: '/root', CLAUDE_CONFIG_DIR: '/root/.claude', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '0' } });
    const { env } = invoke(spec);
    expect(env.HOME).toBe(RUN_HOME);
    expect(env.CLAUDE_CONFIG_DIR).toBe(`${RUN_HOME}/.claude`);
    expect(env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC).toBe('0');
  });

  it('applies literal NAME=value entries of the agent config beneath the run environment', () => {
    const agent = agentConfig('claude', { env: ['ANTHROPIC_BASE_URL=http://127.0.0.1:4010', 'ANTHROPIC_API_KEY=from-config', 'PASSED_THROUGH'] });
    const { env } = invoke(runSpec(), agent);
    expect(env.ANTHROPIC_BASE_URL).toBe('http://127.0.0.1:4010');
    expect(env.ANTHROPIC_API_KEY).toBe('test-key');
    expect(env).not.toHaveProperty('PASSED_THROUGH');
  });

  describe('permissions', () => {
    it('read-only: dontAsk, reading tools only, writing tools denied', () => {
      const { args, env } = invoke(runSpec({ tools: { mode: 'read-only', allowedTools: ['Bash(git log:*)'], writableDirs: ['/tmp/x'] } }));
      expect(flagValue(args, '--permission-mode')).toBe('dontAsk');
      expect(listAfter(args, '--allowedTools')).toEqual(['Read', 'Glob', 'Grep', 'LS', 'Bash(git log:*)']);
      expect(listAfter(args, '--disallowedTools')).toEqual(['Edit', 'Write', 'NotebookEdit']);
      expect(args).not.toContain('--add-dir');
      expect(env).not.toHaveProperty('IS_SANDBOX');
    });

    it('edit: acceptEdits with the allow and deny lists and extra writable directories', () => {
      const { args } = invoke(
        runSpec({ tools: { mode: 'edit', allowedTools: ['Bash(npm test:*)'], deniedTools: ['WebFetch'], writableDirs: ['/data/a', '/data/b'] } }),
      );
      expect(flagValue(args, '--permission-mode')).toBe('acceptEdits');
      expect(listAfter(args, '--allowedTools')).toEqual(['Bash(npm test:*)']);
      expect(listAfter(args, '--disallowedTools')).toEqual(['WebFetch']);
      expect(listAfter(args, '--add-dir')).toEqual(['/data/a', '/data/b']);
    });

    it('edit without lists passes no empty list flags', () => {
      const { args } = invoke();
      expect(args).not.toContain('--allowedTools');
      expect(args).not.toContain('--disallowedTools');
      expect(args).not.toContain('--add-dir');
    });

    it("with approvals: Orch's MCP server in a config file, its permission prompt tool, ask_person allowed", () => {
      const approvals = { command: '/usr/bin/node', args: ['/opt/orch/dist/run-mcp/main.js'], env: { ORCH_WORKER_API: '/h/.orch/orch.sock', ORCH_WORKER_TOKEN: 't' } };
      const { args, files } = invoke(runSpec({ tools: { mode: 'edit', allowedTools: ['Bash(npm test:*)'] }, approvals }));
      expect(flagValue(args, '--permission-mode')).toBe('acceptEdits');
      expect(flagValue(args, '--permission-prompt-tool')).toBe('mcp__orch__permission_prompt');
      expect(flagValue(args, '--mcp-config')).toBe(`${RUN_HOME}/orch-mcp.json`);
      expect(args).toContain('--strict-mcp-config');
      expect(listAfter(args, '--allowedTools')).toEqual(['Bash(npm test:*)', 'mcp__orch__ask_person']);
      expect(JSON.parse(files.find((f) => f.path === 'orch-mcp.json')!.content)).toEqual({ mcpServers: { orch: { type: 'stdio', ...approvals } } });
      // A read-only run asks too: dontAsk would refuse without asking.
      expect(flagValue(invoke(runSpec({ tools: { mode: 'read-only' }, approvals })).args, '--permission-mode')).toBe('default');
    });

    it('without approvals: no MCP server and no permission prompt tool, as before', () => {
      const { args, files } = invoke(runSpec({ approvals: null }));
      expect(args).not.toContain('--mcp-config');
      expect(args).not.toContain('--permission-prompt-tool');
      expect(files.map((f) => f.path)).not.toContain('orch-mcp.json');
    });

    it('full: bypassPermissions with IS_SANDBOX=1 (required as root), deny rules kept', () => {
      const { args, env } = invoke(runSpec({ tools: { mode: 'full', allowedTools: ['Bash'], deniedTools: ['WebSearch'] } }));
      expect(flagValue(args, '--permission-mode')).toBe('bypassPermissions');
      expect(env.IS_SANDBOX).toBe('1');
      expect(args).not.toContain('--allowedTools');
      expect(listAfter(args, '--disallowedTools')).toEqual(['WebSearch']);
    });
  });

  it('asks for the run model, else the agent model, else none', () => {
    expect(flagValue(invoke(runSpec({ model: 'opus' }), agentConfig('claude', { model: 'sonnet' })).args, '--model')).toBe('opus');
    expect(flagValue(invoke(runSpec(), agentConfig('claude', { model: 'sonnet' })).args, '--model')).toBe('sonnet');
    expect(invoke().args).not.toContain('--model');
  });

  it('passes budget, max turns, resume and the system prompt addition', () => {
    const { args, files } = invoke(runSpec({ budgetUsd: 1.5, maxTurns: 30, resumeSessionId: 'abc-123', systemPromptAppend: '- end with a JSON block' }));
    expect(flagValue(args, '--max-budget-usd')).toBe('1.5');
    expect(flagValue(args, '--max-turns')).toBe('30');
    expect(flagValue(args, '--resume')).toBe('abc-123');
    // In a file inside the run's home: however long, it never meets the limit of one argument.
    expect(flagValue(args, '--append-system-prompt-file')).toBe(`${RUN_HOME}/orch-system-prompt.md`);
    expect(files).toEqual([{ path: 'orch-system-prompt.md', content: '- end with a JSON block' }]);
  });

  it('puts the agent config args last', () => {
    const { args } = invoke(runSpec(), agentConfig('claude', { args: ['--fallback-model', 'haiku'] }));
    expect(args.slice(-2)).toEqual(['--fallback-model', 'haiku']);
  });
});

describe('claude stream parser', () => {
  const parse = (...lines: object[]) => {
    const parser = claudeAdapter.createParser();
    return lines.flatMap((line) => parser(JSON.stringify(line)));
  };

  it('turns a 429 retry notice into a rate_limit event with the retry delay', () => {
    expect(parse({ type: 'system', subtype: 'api_retry', attempt: 1, max_retries: 3, retry_delay_ms: 1500.4, error_status: 429, error: 'rate_limit' })).toEqual([
      { type: 'rate_limit', message: 'rate limited (HTTP 429), retry 1 of 3', retryAfterMs: 1500 },
    ]);
  });

  it('classifies an API failure ending in 429 as rate limited', () => {
    const events = parse({ type: 'result', subtype: 'success', is_error: true, api_error_status: 429, result: 'API Error: 429 rate_limit_error', num_turns: 1 });
    expect(events.map((e) => e.type)).toEqual(['usage', 'rate_limit', 'error', 'result']);
    const verdict = classifyRunEnd({ exitCode: 1, signal: null, killedFor: null, events: summarizeRunEvents(events), resultExpected: true });
    expect(verdict.outcome).toBe('rate_limited');
  });

  it('reports an API failure once, though it shows as a synthetic message and again in the result', () => {
    const text = 'API Error: Request rejected (429) · slow down';
    const synthetic = { type: 'assistant', error: 'rate_limit', message: { id: 'm', model: '<synthetic>', content: [{ type: 'text', text }] } };
    const events = parse(synthetic, { type: 'result', subtype: 'success', is_error: true, api_error_status: 429, result: text });
    expect(events.filter((e) => e.type === 'error')).toEqual([{ type: 'error', kind: 'rate_limit', message: text, status: 429 }]);
  });

  it('reports it again when only the result knows the HTTP status', () => {
    const text = 'API Error: something broke';
    const synthetic = { type: 'assistant', error: 'unknown', message: { content: [{ type: 'text', text }] } };
    const events = parse(synthetic, { type: 'result', subtype: 'success', is_error: true, api_error_status: 503, result: text });
    expect(events.filter((e) => e.type === 'error').at(-1)).toEqual({ type: 'error', kind: 'api', message: text, status: 503 });
  });

  it('reports an authentication failure as kind auth', () => {
    const events = parse({ type: 'result', subtype: 'success', is_error: true, api_error_status: 401, result: 'API Error: 401 invalid x-api-key' });
    expect(events).toContainEqual({ type: 'error', kind: 'auth', message: 'API Error: 401 invalid x-api-key', status: 401 });
  });

  it('reports other error subtypes as errors with the CLI messages', () => {
    const events = parse({ type: 'result', subtype: 'error_during_execution', is_error: true, errors: ['tool crashed', 'gave up'] });
    expect(events).toContainEqual({ type: 'error', kind: 'other', message: 'tool crashed; gave up', status: null });
    expect(events.at(-1)).toMatchObject({ type: 'result', ok: false, subtype: 'error_during_execution' });
  });

  it('counts usage once per API message although each content block repeats it', () => {
    const message = (content: object[]) => ({
      type: 'assistant',
      message: { id: 'msg_1', model: 'claude-x', content, usage: { input_tokens: 100, output_tokens: 5, cache_read_input_tokens: 40 } },
    });
    const events = parse(message([{ type: 'text', text: 'hi' }]), message([{ type: 'tool_use', id: 't1', name: 'Read', input: { file_path: 'a' } }]));
    expect(events.filter((e) => e.type === 'usage')).toEqual([
      { type: 'usage', inputTokens: 100, outputTokens: 5, cacheReadTokens: 40, cacheWriteTokens: 0, model: 'claude-x', cumulative: false },
    ]);
  });

  it('skips thinking blocks and keeps unknown block types as unparsed', () => {
    expect(parse({ type: 'assistant', message: { content: [{ type: 'thinking', thinking: '…' }] } })).toEqual([]);
    expect(parse({ type: 'assistant', message: { content: [{ type: 'hologram' }] } })[0]?.type).toBe('unparsed');
  });

  it('reads tool results given as content blocks, with their error flag', () => {
    const events = parse({
      type: 'user',
      message: { content: [{ type: 'tool_result', tool_use_id: 't9', is_error: true, content: [{ type: 'text', text: 'boom' }, { type: 'image' }] }] },
    });
    expect(events).toEqual([{ type: 'tool_result', id: 't9', output: 'boom\n[image]', isError: true }]);
  });

  it('keeps lines it does not know as unparsed', () => {
    const parser = claudeAdapter.createParser();
    expect(parser('not json')).toEqual([{ type: 'unparsed', line: 'not json' }]);
    expect(parser('{"type":"stream_event"}')).toEqual([{ type: 'unparsed', line: '{"type":"stream_event"}' }]);
    expect(parser('   ')).toEqual([]);
  });
});
