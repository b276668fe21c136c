import { describe, expect, it } from 'vitest';
import { commandAdapter } from '../../src/agents/command.js';
import { RUN_HOME, agentConfig, runSpec } from './fixtures.js';

describe('command invocation', () => {
  it('gives the prompt on stdin and in the file ORCH_PROMPT_FILE names, not as an argument', () => {
    const { command, args, env, files, stdin } = commandAdapter.invocation(runSpec(), agentConfig('command', { command: './agent.sh', args: ['--fast'] }));
    expect(command).toBe('./agent.sh');
    expect(args).toEqual(['--fast']);
    expect(env.HOME).toBe(RUN_HOME);
    expect(stdin).toBe('Fix the failing test');
    expect(env.ORCH_PROMPT_FILE).toBe(`${RUN_HOME}/prompt.md`);
    expect(files).toEqual([{ path: 'prompt.md', content: 'Fix the failing test' }]);
  });

  it('puts the prompt file\'s path in place of {prompt_file}', () => {
    const { args } = commandAdapter.invocation(runSpec(), agentConfig('command', { args: ['--brief', '{prompt_file}'] }));
    expect(args).toEqual(['--brief', `${RUN_HOME}/prompt.md`]);
  });

  it('puts the prompt in place of {prompt}, keeping $-patterns literal', () => {
    const agent = agentConfig('command', { args: ['--message={prompt}', '--verbose'] });
    const { args } = commandAdapter.invocation(runSpec({ prompt: "cost is $& and $1 'quoted'" }), agent);
    expect(args).toEqual(["--message=cost is $& and $1 'quoted'", '--verbose']);
  });

  it('passes the model as ORCH_MODEL', () => {
    expect(commandAdapter.invocation(runSpec({ model: 'm1' }), agentConfig('command')).env.ORCH_MODEL).toBe('m1');
    expect(commandAdapter.invocation(runSpec(), agentConfig('command')).env).not.toHaveProperty('ORCH_MODEL');
  });

  it('has no version query and no result event of its own', () => {
    expect(commandAdapter.versionArgs).toEqual([]);
    expect(commandAdapter.reportsResult).toBe(false);
  });
});

describe('command output parser', () => {
  it('takes plain lines as assistant text', () => {
    const parse = commandAdapter.createParser();
    expect(parse('hello world\r')).toEqual([{ type: 'assistant_text', text: 'hello world' }]);
    expect(parse('')).toEqual([]);
  });

  it('accepts JSON lines that are agent events, filling optional fields', () => {
    const parse = commandAdapter.createParser();
    expect(parse('{"type":"usage","inputTokens":5,"outputTokens":2,"cumulative":true,"extra":1}')).toEqual([
      { type: 'usage', inputTokens: 5, outputTokens: 2, cacheReadTokens: 0, cacheWriteTokens: 0, model: null, cumulative: true },
    ]);
    expect(parse('{"type":"result","ok":true}')).toEqual([{ type: 'result', ok: true, text: null, subtype: null, turns: null }]);
    expect(parse('{"type":"tool_call","name":"sh","input":{"cmd":"ls"}}')).toEqual([{ type: 'tool_call', id: null, name: 'sh', input: { cmd: 'ls' } }]);
  });

  it('takes JSON that is not an event as text', () => {
    const parse = commandAdapter.createParser();
    expect(parse('{"type":"error","kind":"volcano","message":"x"}')).toEqual([{ type: 'assistant_text', text: '{"type":"error","kind":"volcano","message":"x"}' }]);
    expect(parse('[1,2]')).toEqual([{ type: 'assistant_text', text: '[1,2]' }]);
  });
});
