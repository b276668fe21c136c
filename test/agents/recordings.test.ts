// Every recorded stream of a real CLI run goes through its adapter's parser, and the folded events
// through usage folding and outcome classification. The reference recordings (test/fixtures/agent-streams/)
// were taken by hand from each pinned CLI; the test rig's recordings (test/rig/recordings/) join them.

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { AgentEvent, AgentKind } from '../../src/agents/agent.js';
import { adapterFor } from '../../src/agents/registry.js';
import { type KillReason, classifyRunEnd, summarizeRunEvents } from '../../src/core/outcome.js';
import { RUN_OUTCOMES, type RunOutcome } from '../../src/core/types.js';
import { foldUsage } from '../../src/core/usage.js';

const repoRoot = new URL('../../', import.meta.url);
const referenceDir = fileURLToPath(new URL('test/fixtures/agent-streams/', repoRoot));
const rigDir = fileURLToPath(new URL('test/rig/recordings/', repoRoot));

const KINDS: AgentKind[] = ['claude', 'codex', 'opencode', 'gemini'];

interface Recording {
  name: string;
  path: string;
  kind: AgentKind;
}

function recordingsIn(dir: string): Recording[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.jsonl'))
    .sort()
    .flatMap((name) => {
      const kind = KINDS.find((k) => name.startsWith(`${k}-`));
      return kind === undefined ? [] : [{ name, path: `${dir}${name}`, kind }];
    });
}

function parseRecording({ path, kind }: Recording): AgentEvent[] {
  const parse = adapterFor(kind).createParser();
  return readFileSync(path, 'utf8').split('\n').flatMap((line) => parse(line));
}

interface ProcessEnd {
  exitCode: number | null;
  signal: string | null;
  killedFor: KillReason | null;
}
const exited = (exitCode: number): ProcessEnd => ({ exitCode, signal: null, killedFor: null });

function classify(recording: Recording, events: AgentEvent[], end: ProcessEnd) {
  return classifyRunEnd({ ...end, events: summarizeRunEvents(events), resultExpected: adapterFor(recording.kind).reportsResult });
}

interface Expected {
  types: AgentEvent['type'][];
  sessionId: string;
  tokens: { input: number; output: number };
  costUsd: number | null;
  result: { ok: boolean; text: string | null } | null;
  /** How the process ended when it was recorded, and what Orch makes of it. */
  end: ProcessEnd;
  outcome: RunOutcome;
  reason?: RegExp;
}

const CLAUDE_SUCCESS_TYPES: AgentEvent['type'][] = [
  'session_started', 'assistant_text', 'usage', 'tool_call', 'tool_result', 'assistant_text', 'usage', 'usage', 'cost', 'result',
];

const EXPECTED: Record<string, Expected> = {
  'claude-2.1.197-api-error-529.jsonl': {
    types: ['session_started', 'unparsed', 'error', 'usage', 'cost', 'result'],
    sessionId: '24850bdb-047e-4b3a-8166-9d7379174ad7',
    tokens: { input: 0, output: 0 },
    costUsd: 0,
    result: {
      ok: false,
      text: 'API Error: 529 fake injected 529. This is a server-side issue, usually temporary — try again in a moment. If it persists, check your inference gateway (127.0.0.1:46731).',
    },
    end: exited(1),
    outcome: 'failed',
    reason: /API error 529/,
  },
  'claude-2.1.197-max-budget.jsonl': {
    types: ['session_started', 'assistant_text', 'usage', 'tool_call', 'usage', 'cost', 'error', 'result'],
    sessionId: 'be8388bd-3e31-4dc1-b2aa-d6a396a9af23',
    tokens: { input: 1664, output: 66 },
    costUsd: 0.00997,
    result: { ok: false, text: null },
    end: exited(1),
    outcome: 'budget_exceeded',
    reason: /Reached maximum budget/,
  },
  'claude-2.1.197-max-turns.jsonl': {
    types: ['session_started', 'assistant_text', 'usage', 'tool_call', 'tool_result', 'usage', 'cost', 'error', 'result'],
    sessionId: '6952b31f-9c54-44c5-8272-23a6c904c0bf',
    tokens: { input: 1653, output: 66 },
    costUsd: 0.009915,
    result: { ok: false, text: null },
    end: exited(1),
    outcome: 'failed',
    reason: /max-turns limit \(Reached maximum number of turns \(1\)\)/,
  },
  'claude-2.1.197-multi-turn.jsonl': {
    types: [
      'session_started', 'assistant_text', 'usage', 'tool_call', 'tool_call', 'tool_result', 'tool_result',
      'assistant_text', 'usage', 'tool_call', 'tool_result', 'assistant_text', 'usage', 'usage', 'cost', 'result',
    ],
    sessionId: '69f61358-1466-4406-a3ca-b2ebbd2a8c44',
    tokens: { input: 5400, output: 198 },
    costUsd: 0.03195,
    result: { ok: true, text: 'All done.' },
    end: exited(0),
    outcome: 'succeeded',
  },
  'claude-2.1.197-sigterm-no-result.jsonl': {
    types: ['session_started'],
    sessionId: '6cb77c09-57b7-4df6-8d6c-5ecc3a1c743e',
    tokens: { input: 0, output: 0 },
    costUsd: null,
    result: null,
    end: { exitCode: null, signal: 'SIGTERM', killedFor: null },
    outcome: 'crashed',
    reason: /killed by SIGTERM before reporting a result/,
  },
  'claude-2.1.197-success-tools.jsonl': {
    types: CLAUDE_SUCCESS_TYPES,
    sessionId: '5bdc83ff-1c6e-4e07-ac49-732f1503e1e4',
    tokens: { input: 3418, output: 98 },
    costUsd: 0.01954,
    result: { ok: true, text: 'DONE: created hello.txt' },
    end: exited(0),
    outcome: 'succeeded',
  },
  'claude-2.1.330-success.jsonl': {
    types: CLAUDE_SUCCESS_TYPES,
    sessionId: '40c0e374-d7c2-44fe-9a17-dd447f5d61c1',
    tokens: { input: 5477, output: 97 },
    costUsd: 0.023848,
    result: { ok: true, text: 'DONE: created hello.txt' },
    end: exited(0),
    outcome: 'succeeded',
  },
  'codex-0.169.0-api-error-500.jsonl': {
    types: ['session_started', 'unparsed', 'error', 'result'],
    sessionId: '01a1ffe7-bc35-77a0-8a12-b0577bf994ec',
    tokens: { input: 0, output: 0 },
    costUsd: null,
    result: { ok: false, text: 'We’re currently experiencing high demand, which may cause temporary errors.' },
    end: exited(1),
    outcome: 'failed',
    reason: /exited 1: API error: We’re currently experiencing high demand/,
  },
  'codex-0.169.0-apply-patch.jsonl': {
    types: ['session_started', 'tool_call', 'tool_result', 'assistant_text', 'usage', 'result'],
    sessionId: '01a1ffeb-4e05-7521-9494-6750dde17f46',
    tokens: { input: 14269, output: 50 },
    costUsd: null,
    result: { ok: true, text: 'DONE: created hello.txt' },
    end: exited(0),
    outcome: 'succeeded',
  },
  'codex-0.169.0-resume.jsonl': {
    types: ['session_started', 'unparsed', 'assistant_text', 'usage', 'result'],
    sessionId: '01a1ffe7-d47f-7df1-ac11-1d1719596768',
    tokens: { input: 15750, output: 75 },
    costUsd: null,
    result: { ok: true, text: 'DONE: created hello.txt' },
    end: exited(0),
    outcome: 'succeeded',
  },
  'codex-0.169.0-success-exec.jsonl': {
    types: ['session_started', 'unparsed', 'tool_call', 'tool_result', 'assistant_text', 'usage', 'result'],
    sessionId: '01a1ffe7-17a3-7093-8f86-0c8da006c6b6',
    tokens: { input: 10418, output: 50 },
    costUsd: null,
    result: { ok: true, text: 'DONE: created hello.txt' },
    end: exited(0),
    outcome: 'succeeded',
  },
  'gemini-0.61.0-success.jsonl': {
    types: ['session_started', 'tool_call', 'tool_result', 'assistant_text', 'usage', 'result'],
    sessionId: '383f1607-f186-4c31-bad0-ac664d3c97c8',
    tokens: { input: 633, output: 36 },
    costUsd: null,
    result: { ok: true, text: 'DONE: created hello.txt' },
    end: exited(0),
    outcome: 'succeeded',
  },
  'opencode-1.18.33-success.jsonl': {
    types: ['session_started', 'assistant_text', 'tool_call', 'tool_result', 'usage', 'cost', 'assistant_text', 'usage', 'cost', 'result'],
    sessionId: 'ses_e0017ae25ffemrAYK04z6Bo8nB',
    tokens: { input: 149, output: 97 },
    costUsd: 0.001902,
    result: { ok: true, text: 'DONE: created hello.txt' },
    end: exited(0),
    outcome: 'succeeded',
  },
};

const reference = recordingsIn(referenceDir);

describe('reference recordings', () => {
  it('are all there and all described below', () => {
    expect(reference.map((r) => r.name)).toEqual(expect.arrayContaining(Object.keys(EXPECTED)));
  });

  describe.each(reference.filter((r) => r.name in EXPECTED))('$name', (recording) => {
    const expected = EXPECTED[recording.name]!;
    const events = parseRecording(recording);

    it('parses into the expected event sequence', () => {
      expect(events.map((e) => e.type)).toEqual(expected.types);
    });

    it('names the session', () => {
      expect(events[0]).toMatchObject({ type: 'session_started', sessionId: expected.sessionId });
    });

    it('folds usage and cost', () => {
      const totals = foldUsage(events);
      expect({ input: totals.inputTokens, output: totals.outputTokens }).toEqual(expected.tokens);
      if (expected.costUsd === null) expect(totals.reportedCostUsd).toBeNull();
      else expect(totals.reportedCostUsd).toBeCloseTo(expected.costUsd, 9);
    });

    it('reports the final result', () => {
      const result = events.findLast((e) => e.type === 'result');
      if (expected.result === null) expect(result).toBeUndefined();
      else expect(result).toMatchObject(expected.result);
    });

    it(`is classified ${expected.outcome}`, () => {
      const verdict = classify(recording, events, expected.end);
      expect(verdict.outcome).toBe(expected.outcome);
      if (expected.reason) expect(verdict.reason).toMatch(expected.reason);
    });
  });

  describe('a run that ended on SIGTERM without a result', () => {
    const recording = reference.find((r) => r.name === 'claude-2.1.197-sigterm-no-result.jsonl')!;
    const events = parseRecording(recording);

    it.each([
      [{ exitCode: null, signal: 'SIGTERM', killedFor: 'cancel' }, 'cancelled'],
      [{ exitCode: null, signal: 'SIGTERM', killedFor: 'timeout' }, 'timed_out'],
      [{ exitCode: null, signal: 'SIGKILL', killedFor: 'stall' }, 'stalled'],
      [{ exitCode: 143, signal: null, killedFor: null }, 'crashed'],
    ] as [ProcessEnd, RunOutcome][])('%o → %s', (end, outcome) => {
      expect(classify(recording, events, end).outcome).toBe(outcome);
    });
  });
});

const rig = recordingsIn(rigDir);

/** The rig's manifest: how each recorded process ended, and which case it played. */
interface RigManifestEntry {
  case: string;
  exitCode: number | null;
  signal: string | null;
}
const rigManifest: Record<string, RigManifestEntry> = existsSync(`${rigDir}manifest.json`)
  ? (JSON.parse(readFileSync(`${rigDir}manifest.json`, 'utf8')) as Record<string, RigManifestEntry>)
  : {};

/** What each kind of rig case must come to when Orch did not kill the run itself. */
const OUTCOME_BY_CASE: [RegExp, RunOutcome][] = [
  [/^success|-recovered$/, 'succeeded'],
  [/^rate-limit/, 'rate_limited'],
  [/^api-error/, 'failed'],
  [/^max-budget/, 'budget_exceeded'],
  [/^max-turns/, 'failed'],
  [/sigterm|sigkill/, 'crashed'],
];

describe.runIf(rig.length > 0)('test rig recordings', () => {
  describe.each(rig)('$name', (recording) => {
    const events = parseRecording(recording);
    const entry = rigManifest[recording.name];

    it('starts a session and folds to non-negative totals', () => {
      expect(events.find((e) => e.type === 'session_started')).toBeDefined();
      const totals = foldUsage(events);
      expect(Math.min(totals.inputTokens, totals.outputTokens, totals.reportedCostUsd ?? 0)).toBeGreaterThanOrEqual(0);
    });

    it('classifies to one outcome whatever the exit', () => {
      for (const exitCode of [0, 1, null]) {
        const end = { exitCode, signal: exitCode === null ? 'SIGTERM' : null, killedFor: null };
        expect(RUN_OUTCOMES).toContain(classify(recording, events, end).outcome);
      }
    });

    const expected = entry && OUTCOME_BY_CASE.find(([pattern]) => pattern.test(entry.case))?.[1];
    it.runIf(expected !== undefined)(`is classified ${expected} as recorded`, () => {
      const verdict = classify(recording, events, { exitCode: entry!.exitCode, signal: entry!.signal, killedFor: null });
      expect(verdict.outcome).toBe(expected);
    });
  });
});
