import { describe, expect, it } from 'vitest';
import { opencodeAdapter, permissionRules } from '../../src/agents/opencode.js';
import { RUN_HOME, agentConfig, flagValue, runSpec } from './fixtures.js';

const invoke = (spec = runSpec(), agent = agentConfig('opencode')) => opencodeAdapter.invocation(spec, agent);
const configOf = (env: Record<string, string>) => JSON.parse(env.OPENCODE_CONFIG_CONTENT!) as Record<string, unknown>;

describe('opencode invocation', () => {
  it('runs `run --format json` with the prompt on stdin', () => {
    const { command, args, stdin } = invoke();
    expect(command).toBe('/opt/bin/opencode');
    expect(args).toEqual(['run', '--format', 'json']);
    expect(stdin).toBe('Fix the failing test');
  });

  it('keeps HOME and every XDG dir inside the run home and quiets background traffic', () => {
    const { env } = invoke();
    expect(env.HOME).toBe(RUN_HOME);
    for (const name of ['XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_STATE_HOME', 'XDG_CACHE_HOME']) expect(env[name]!.startsWith(`${RUN_HOME}/`)).toBe(true);
    for (const name of ['MODELS_FETCH', 'AUTOUPDATE', 'DEFAULT_PLUGINS', 'LSP_DOWNLOAD', 'SHARE']) expect(env[`OPENCODE_DISABLE_${name}`]).toBe('1');
    expect(configOf(env)).toMatchObject({ share: 'disabled', autoupdate: false });
  });

  it('passes a one-word or quoted prompt as it is', () => {
    expect(invoke(runSpec({ prompt: '42' })).stdin).toBe('42');
    expect(invoke(runSpec({ prompt: 'fix "it" now' })).stdin).toBe('fix "it" now');
  });

  it('passes model and session', () => {
    const { args } = invoke(runSpec({ model: 'anthropic/claude-x', resumeSessionId: 'ses_1' }));
    expect(flagValue(args, '--model')).toBe('anthropic/claude-x');
    expect(flagValue(args, '--session')).toBe('ses_1');
  });

  it('points the model provider at ORCH_OPENCODE_BASE_URL, merged over a config already in the environment', () => {
    const existing = JSON.stringify({ provider: { anthropic: { models: { 'fake-model': {} }, options: { timeout: 5 } } }, permission: { '*': 'ask' } });
    const spec = runSpec({ model: 'anthropic/fake-model', env: { ORCH_OPENCODE_BASE_URL: 'http://127.0.0.1:9/v1', OPENCODE_CONFIG_CONTENT: existing } });
    const config = configOf(invoke(spec).env);
    expect(config.provider).toEqual({ anthropic: { models: { 'fake-model': {} }, options: { timeout: 5, baseURL: 'http://127.0.0.1:9/v1' } } });
    expect(config.permission).toMatchObject({ '*': 'allow' });
  });

  it('defaults the provider to anthropic when the model names none', () => {
    const config = configOf(invoke(runSpec({ env: { ORCH_OPENCODE_BASE_URL: 'http://127.0.0.1:9' } })).env);
    expect(config.provider).toEqual({ anthropic: { options: { baseURL: 'http://127.0.0.1:9' } } });
  });
});

describe('opencode permission rules', () => {
  const rules = (tools: Parameters<typeof permissionRules>[0]) => permissionRules(tools);
  const policy = { allowedTools: [], deniedTools: [], writableDirs: [] };

  it('never asks: read-only denies edits, shell and outside paths', () => {
    expect(rules({ ...policy, mode: 'read-only' })).toEqual({ '*': 'allow', edit: 'deny', bash: 'deny', external_directory: 'deny' });
  });

  it('edit allows edits, reaches writable dirs, and opens the shell only by pattern', () => {
    expect(rules({ mode: 'edit', allowedTools: ['Bash(npm test*)'], deniedTools: ['webfetch', 'bash(npm test -- --update*)'], writableDirs: ['/data/out/'] })).toEqual({
      '*': 'allow',
      edit: 'allow',
      bash: { '*': 'deny', 'npm test*': 'allow', 'npm test -- --update*': 'deny' },
      external_directory: { '*': 'deny', '/data/out/**': 'allow' },
      webfetch: 'deny',
    });
  });

  it('full allows everything except what is denied', () => {
    expect(rules({ ...policy, mode: 'full', deniedTools: ['webfetch'] })).toEqual({ '*': 'allow', webfetch: 'deny' });
  });
});

describe('opencode stream parser', () => {
  const parse = (...lines: object[]) => {
    const parser = opencodeAdapter.createParser();
    return lines.flatMap((line) => parser(JSON.stringify(line)));
  };

  it('reports a failed tool with its error output', () => {
    const events = parse({ type: 'tool_use', part: { tool: 'bash', callID: 'c1', state: { status: 'error', input: { command: 'x' }, error: 'exit 1' } } });
    expect(events).toEqual([
      { type: 'tool_call', id: 'c1', name: 'bash', input: { command: 'x' } },
      { type: 'tool_result', id: 'c1', output: 'exit 1', isError: true },
    ]);
  });

  it('emits a result only for a step that stops', () => {
    const step = (reason: string) => ({ type: 'step_finish', part: { reason, tokens: { input: 10, output: 2, reasoning: 1, cache: { read: 5, write: 0 } }, cost: 0.01 } });
    expect(parse(step('tool-calls')).map((e) => e.type)).toEqual(['usage', 'cost']);
    expect(parse(step('stop')).map((e) => e.type)).toEqual(['usage', 'cost', 'result']);
    expect(parse(step('stop'))[0]).toEqual({ type: 'usage', inputTokens: 10, outputTokens: 3, cacheReadTokens: 5, cacheWriteTokens: 0, model: null, cumulative: false });
  });

  it('turns error events into errors, rate limits included', () => {
    const events = parse({ type: 'error', error: { name: 'APIError', data: { message: 'Rate limit exceeded', statusCode: 429 } } });
    expect(events.map((e) => e.type)).toEqual(['rate_limit', 'error']);
    expect(events[1]).toMatchObject({ kind: 'rate_limit', status: 429 });
  });
});
