import { describe, expect, it } from 'vitest';
import { geminiAdapter } from '../../src/agents/gemini.js';
import { RUN_HOME, agentConfig, flagValue, flagValues, runSpec } from './fixtures.js';

const invoke = (spec = runSpec(), agent = agentConfig('gemini')) => geminiAdapter.invocation(spec, agent);
const settingsOf = (files: { path: string; content: string }[]) => JSON.parse(files.find((f) => f.path === '.gemini/settings.json')!.content) as Record<string, unknown>;

describe('gemini invocation', () => {
  it('runs headless with stream-json, trust skipped, the prompt on stdin', () => {
    const { command, args, stdin } = invoke();
    expect(command).toBe('/opt/bin/gemini');
    expect(args).toEqual(['--output-format', 'stream-json', '--skip-trust', '--approval-mode', 'auto_edit']);
    expect(stdin).toBe('Fix the failing test');
  });

  it('writes API-key auth and telemetry off into a settings file under the run HOME', () => {
    const { env, files } = invoke();
    expect(env.HOME).toBe(RUN_HOME);
    expect(env.GEMINI_TELEMETRY_ENABLED).toBe('false');
    expect(settingsOf(files)).toEqual({
      security: { auth: { selectedType: 'gemini-api-key' } },
      privacy: { usageStatisticsEnabled: false },
      telemetry: { enabled: false },
      general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
    });
  });

  it.each([
    ['read-only', 'default'],
    ['edit', 'auto_edit'],
    ['full', 'yolo'],
  ] as const)('maps permission mode %s to approval mode %s', (mode, approval) => {
    expect(flagValue(invoke(runSpec({ tools: { mode } })).args, '--approval-mode')).toBe(approval);
  });

  it('passes allowed tools, writable dirs, denied tools and max turns', () => {
    const spec = runSpec({ maxTurns: 12, tools: { mode: 'edit', allowedTools: ['run_shell_command(npm test)'], deniedTools: ['web_fetch'], writableDirs: ['/a', '/b'] } });
    const { args, files } = invoke(spec);
    expect(flagValues(args, '--allowed-tools')).toEqual(['run_shell_command(npm test)']);
    expect(flagValue(args, '--include-directories')).toBe('/a,/b');
    expect(settingsOf(files)).toMatchObject({ tools: { exclude: ['web_fetch'] }, model: { maxSessionTurns: 12 } });
  });

  it('passes model and resume', () => {
    const { args } = invoke(runSpec({ resumeSessionId: 's-1' }), agentConfig('gemini', { model: 'gemini-2.5-pro' }));
    expect(flagValue(args, '--model')).toBe('gemini-2.5-pro');
    expect(flagValue(args, '--resume')).toBe('s-1');
  });

  it('keeps a prompt starting with a dash out of the arguments', () => {
    const { args, stdin } = invoke(runSpec({ prompt: '--help me' }));
    expect(args).not.toContain('--help me');
    expect(stdin).toBe('--help me');
  });
});

describe('gemini stream parser', () => {
  const parse = (...lines: object[]) => {
    const parser = geminiAdapter.createParser();
    return lines.flatMap((line) => parser(JSON.stringify(line)));
  };

  it('joins streamed fragments into one text so a result block is never split', () => {
    const events = parse(
      { type: 'message', role: 'assistant', content: 'Done.\n```json\n{"status":', delta: true },
      { type: 'message', role: 'assistant', content: ' "done"}\n```', delta: true },
      { type: 'result', status: 'success', stats: { input_tokens: 10, output_tokens: 3, cached: 4 } },
    );
    expect(events[0]).toEqual({ type: 'assistant_text', text: 'Done.\n```json\n{"status": "done"}\n```' });
    expect(events[1]).toEqual({ type: 'usage', inputTokens: 6, outputTokens: 3, cacheReadTokens: 4, cacheWriteTokens: 0, model: null, cumulative: true });
    expect(events[2]).toMatchObject({ type: 'result', ok: true, text: 'Done.\n```json\n{"status": "done"}\n```' });
  });

  it('reports a failed run as an error and a failed result', () => {
    const events = parse({ type: 'result', status: 'error', error: { type: 'FatalError', message: 'quota exceeded for model' }, stats: {} });
    expect(events.map((e) => e.type)).toEqual(['usage', 'rate_limit', 'error', 'result']);
    expect(events.at(-1)).toMatchObject({ ok: false, subtype: 'error' });
  });

  it('reports failed tools with their error message', () => {
    expect(parse({ type: 'tool_result', tool_id: 't', status: 'error', error: { message: 'denied' } })).toEqual([
      { type: 'tool_result', id: 't', output: 'denied', isError: true },
    ]);
  });
});
