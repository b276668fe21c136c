// What every adapter promises, checked across all of them.

import { isAbsolute } from 'node:path';
import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { AgentEvent, AgentInvocation, PermissionMode } from '../../src/agents/agent.js';
import { adapterFor } from '../../src/agents/registry.js';
import type { ReportedError, ReportedResult } from '../../src/core/outcome.js';
import type { CostReport, UsageReport } from '../../src/core/usage.js';
import { AGENT_KINDS } from '../../src/config/schema.js';
import { RUN_HOME, agentConfig, runSpec } from './fixtures.js';

const TRICKY_PROMPTS = [
  `Fix "quotes" and 'single' ones`,
  'Run $(rm -rf /) and `id` and ${HOME}; echo $PATH',
  'line one\nline two\n\n--help\n',
  '-p --yolo',
  '',
];

describe('every adapter', () => {
  it.each(AGENT_KINDS)('%s is in the registry under its kind', (kind) => {
    expect(adapterFor(kind).kind).toBe(kind);
  });

  describe.each(AGENT_KINDS)('%s invocation', (kind) => {
    const adapter = adapterFor(kind);
    const invoke = (prompt: string, mode: PermissionMode = 'edit'): AgentInvocation =>
      adapter.invocation(runSpec({ prompt, tools: { mode } }), agentConfig(kind, { command: `my-${kind}` }));

    it.each(TRICKY_PROMPTS)('passes the prompt %j on stdin, never in argv', (prompt) => {
      const { args, stdin, env } = invoke(prompt);
      expect(stdin).toBe(prompt);
      if (prompt !== '') expect([...args, ...Object.values(env)].filter((value) => value.includes(prompt))).toEqual([]);
    });

    it('keeps any prompt, however long, out of argv and the environment', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'binary', minLength: 1 }), (text) => {
          const prompt = `${text}-${'x'.repeat(200 * 1024)}`;
          const { args, env, stdin } = invoke(prompt);
          expect(stdin).toBe(prompt);
          for (const value of [...args, ...Object.values(env)]) expect(value.length).toBeLessThan(64 * 1024);
        }),
        { numRuns: 20 },
      );
    });

    it.each(['read-only', 'edit', 'full'] as const)('in %s mode runs the configured command with HOME and config dirs inside runHome', (mode) => {
      const { command, env, files } = invoke('x', mode);
      expect(command).toBe(`my-${kind}`);
      expect(env.HOME).toBe(RUN_HOME);
      for (const name of ['CLAUDE_CONFIG_DIR', 'CODEX_HOME', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_STATE_HOME', 'XDG_CACHE_HOME']) {
        if (name in env) expect(env[name]!.startsWith(`${RUN_HOME}/`)).toBe(true);
      }
      for (const file of files) {
        expect(isAbsolute(file.path)).toBe(false);
        expect(file.path.split('/')).not.toContain('..');
      }
    });

    it('keeps the base environment and sets PWD to the worktree', () => {
      const { env } = invoke('x');
      expect(env.PATH).toBe('/usr/bin:/bin');
      expect(env.PWD).toBe(runSpec().cwd);
    });
  });
});

describe('every parser', () => {
  const KNOWN_TYPES = [
    'system', 'assistant', 'user', 'result', 'thread.started', 'turn.started', 'turn.completed', 'turn.failed', 'item.started',
    'item.completed', 'error', 'step_start', 'text', 'tool_use', 'step_finish', 'init', 'message', 'tool_result', 'usage', 'cost',
    'session_started', 'assistant_text', 'tool_call', 'rate_limit',
  ];
  const NESTED_KEYS = ['message', 'item', 'part', 'usage', 'stats', 'error', 'content', 'modelUsage', 'tokens', 'state', 'subtype', 'is_error', 'session_id'];

  /** Objects shaped like real events, with anything at all in their fields. */
  const eventLike = fc
    .tuple(fc.constantFrom(...KNOWN_TYPES), fc.dictionary(fc.constantFrom(...NESTED_KEYS), fc.anything()))
    .map(([type, fields]) => JSON.stringify({ ...fields, type }));

  describe.each(AGENT_KINDS)('%s', (kind) => {
    it('never throws, on text, JSON or event-shaped nonsense, and always returns events', () => {
      fc.assert(
        fc.property(fc.array(fc.oneof(fc.string(), fc.json(), eventLike), { maxLength: 8 }), (lines) => {
          const parse = adapterFor(kind).createParser();
          for (const line of lines) {
            const events = parse(line);
            expect(Array.isArray(events)).toBe(true);
            for (const event of events) expect(typeof event.type).toBe('string');
          }
        }),
        { numRuns: 300 },
      );
    });
  });

  it.each(AGENT_KINDS.filter((kind) => kind !== 'command'))('%s keeps a non-JSON line as unparsed and skips blank lines', (kind) => {
    const parse = adapterFor(kind).createParser();
    expect(parse('Loading…')).toEqual([{ type: 'unparsed', line: 'Loading…' }]);
    expect(parse('')).toEqual([]);
  });
});

describe('the event contract and the core', () => {
  it('agrees on the shapes the core folds', () => {
    expectTypeOf<Omit<Extract<AgentEvent, { type: 'usage' }>, 'type'>>().toEqualTypeOf<UsageReport>();
    expectTypeOf<Omit<Extract<AgentEvent, { type: 'cost' }>, 'type'>>().toEqualTypeOf<CostReport>();
    expectTypeOf<Extract<AgentEvent, { type: 'result' }>>().toExtend<ReportedResult>();
    expectTypeOf<Omit<Extract<AgentEvent, { type: 'error' }>, 'type'>>().toEqualTypeOf<ReportedError>();
  });
});
