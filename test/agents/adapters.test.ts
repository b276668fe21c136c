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

/**
 * The argv element carrying the prompt: gemini takes it as `--prompt=…`; OpenCode gets a newline after
 * a one-word prompt, which its argument parser would otherwise be free to read as a number.
 */
function promptElement(kind: string, prompt: string): string {
  if (kind === 'gemini') return `--prompt=${prompt}`;
  if (kind === 'opencode' && /^\S*$/.test(prompt)) return `${prompt}\n`;
  return prompt;
}

describe('every adapter', () => {
  it.each(AGENT_KINDS)('%s is in the registry under its kind', (kind) => {
    expect(adapterFor(kind).kind).toBe(kind);
  });

  describe.each(AGENT_KINDS)('%s invocation', (kind) => {
    const adapter = adapterFor(kind);
    const invoke = (prompt: string, mode: PermissionMode = 'edit'): AgentInvocation =>
      adapter.invocation(runSpec({ prompt, tools: { mode } }), agentConfig(kind, { command: `my-${kind}` }));

    it.each(TRICKY_PROMPTS)('passes the prompt %j as exactly one argv element, the last', (prompt) => {
      const { args } = invoke(prompt);
      expect(args.at(-1)).toBe(promptElement(kind, prompt));
      if (prompt !== '') expect(args.filter((arg) => arg.includes(prompt))).toHaveLength(1);
    });

    it('keeps the prompt one argv element whatever it contains', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'binary' }), (prompt) => {
          expect(invoke(prompt).args.at(-1)).toBe(promptElement(kind, prompt));
        }),
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
