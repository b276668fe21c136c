import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AgentConfig, AgentEvent, RunSpec } from '../../src/agents/agent.js';
import { agentBaseEnvironment } from '../../src/agents/environment.js';
import { groupAlive } from '../../src/agents/process-group.js';
import { adapterFor } from '../../src/agents/registry.js';
import { superviseRun, type SuperviseOptions } from '../../src/agents/supervisor.js';
import { tempDir } from '../helpers/git.js';

let scratch: { path: string; cleanup: () => void };
beforeEach(() => {
  scratch = tempDir('orch-supervisor-');
});
afterEach(() => scratch.cleanup());

/** A `command` agent backed by a shell script written for the test. */
function scriptAgent(body: string): AgentConfig {
  const path = join(scratch.path, `agent-${Math.random().toString(36).slice(2)}.sh`);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return { name: 'script', kind: 'command', command: path, model: null, maxConcurrent: 1, env: [], args: [] };
}

function spec(overrides: Partial<RunSpec> = {}): RunSpec {
  return {
    prompt: 'do the thing',
    systemPromptAppend: null,
    model: null,
    tools: { mode: 'edit', allowedTools: [], deniedTools: [], writableDirs: [] },
    budgetUsd: null,
    maxTurns: null,
    resumeSessionId: null,
    cwd: scratch.path,
    runHome: join(scratch.path, 'run-home'),
    env: agentBaseEnvironment(process.env, []),
    ...overrides,
  };
}

function run(agent: AgentConfig, extra: Partial<SuperviseOptions> = {}) {
  const events: AgentEvent[] = [];
  let pid: number | null = null;
  const report = superviseRun({
    adapter: adapterFor('command'),
    agent,
    spec: spec(),
    logPath: join(scratch.path, 'runs', '1', 'agent.jsonl'),
    timeoutMs: 20_000,
    stallMs: null,
    budgetUsd: null,
    prices: {},
    graceMs: 500,
    onEvent: (event) => {
      events.push(event);
    },
    onSpawn: (p) => {
      pid = p;
    },
    ...extra,
  });
  return { report, events, pid: () => pid };
}

/** Whether a process runs (a zombie waiting for its parent runs nothing). */
function runningProcess(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !['Z', 'X'].includes(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!);
  } catch {
    return false;
  }
}

const json = (value: unknown) => `echo '${JSON.stringify(value)}'`;

describe('the supervisor', () => {
  it('runs a command to success, keeps its output and folds its usage and cost', async () => {
    const agent = scriptAgent(
      [
        json({ type: 'session_started', sessionId: 's-1' }),
        'echo "working on: $(cat)"',
        json({ type: 'usage', inputTokens: 100, outputTokens: 20, cumulative: false }),
        json({ type: 'cost', usd: 0.25, cumulative: true }),
        'echo "ok" > done.txt',
      ].join('\n'),
    );
    const { report, events } = run(agent);
    const r = await report;
    expect(r).toMatchObject({ outcome: 'succeeded', exitCode: 0, sessionId: 's-1', costUsd: 0.25, killedFor: null });
    expect(r.totals).toMatchObject({ inputTokens: 100, outputTokens: 20 });
    expect(events.map((e) => e.type)).toEqual(['session_started', 'assistant_text', 'usage', 'cost']);
    expect(events[1]).toEqual({ type: 'assistant_text', text: 'working on: do the thing' });
    expect(readFileSync(join(scratch.path, 'done.txt'), 'utf8')).toBe('ok\n');
    expect(readFileSync(join(scratch.path, 'runs', '1', 'agent.jsonl'), 'utf8').split('\n')).toHaveLength(5);
  });

  it('names a non-zero exit `failed` and keeps the end of stderr', async () => {
    const r = await run(scriptAgent('echo "no API key" >&2\nexit 3')).report;
    expect(r).toMatchObject({ outcome: 'failed', exitCode: 3 });
    expect(r.stderrTail).toContain('no API key');
    expect(existsSync(join(scratch.path, 'runs', '1', 'agent.stderr.log'))).toBe(true);
  });

  it('stops a run that passes its time limit, with the tools it started', async () => {
    const { report, pid } = run(scriptAgent('sleep 300 &\nsleep 300'), { timeoutMs: 300 });
    const r = await report;
    expect(r).toMatchObject({ outcome: 'timed_out', killedFor: 'timeout' });
    expect(groupAlive(pid()!)).toBe(false);
  });

  it('stops a run that goes quiet', async () => {
    const { report, pid } = run(scriptAgent('echo started\nsleep 300'), { stallMs: 400 });
    const r = await report;
    expect(r).toMatchObject({ outcome: 'stalled', killedFor: 'stall' });
    expect(groupAlive(pid()!)).toBe(false);
  });

  it('stops a run whose cost passes its budget, priced from tokens when the CLI reports none', async () => {
    const loop = `while true; do ${json({ type: 'usage', inputTokens: 100_000, outputTokens: 10_000, model: 'm', cumulative: false })}; sleep 0.05; done`;
    const { report, pid } = run(scriptAgent(loop), { budgetUsd: 1, prices: { m: { input: 3, output: 15 } } });
    const r = await report;
    expect(r).toMatchObject({ outcome: 'budget_exceeded', killedFor: 'budget' });
    expect(r.costUsd).toBeGreaterThan(1);
    expect(r.costUsd).toBeLessThan(1.5);
    expect(groupAlive(pid()!)).toBe(false);
  });

  it('cancels a run on request, SIGKILLing a group that ignores SIGTERM', async () => {
    const controller = new AbortController();
    const { report, pid } = run(scriptAgent("trap '' TERM\necho ready\nsleep 300 &\nwhile true; do sleep 1; done"), { signal: controller.signal });
    setTimeout(() => controller.abort(), 300);
    const r = await report;
    expect(r).toMatchObject({ outcome: 'cancelled', killedFor: 'cancel' });
    expect(groupAlive(pid()!)).toBe(false);
  });

  it('leaves no process behind when the CLI exits before its tools', async () => {
    const { report, pid } = run(scriptAgent('sleep 300 &\necho bye'));
    expect((await report).outcome).toBe('succeeded');
    expect(groupAlive(pid()!)).toBe(false);
  });

  it('leaves no process behind that left the run\'s group with setsid, even one holding its output open', async () => {
    const escape = (name: string, output: string) => `setsid sh -c 'echo $$ > ${name}.pid; exec sleep 300' ${output} &`;
    const agent = scriptAgent([escape('quiet', '>/dev/null 2>&1'), escape('holding', ''), 'while [ ! -s quiet.pid ] || [ ! -s holding.pid ]; do sleep 0.05; done', 'echo bye'].join('\n'));
    const r = await run(agent).report;
    expect(r.outcome).toBe('succeeded');
    for (const name of ['quiet', 'holding']) {
      const pid = Number(readFileSync(join(scratch.path, `${name}.pid`), 'utf8'));
      expect(pid).toBeGreaterThan(0);
      expect(runningProcess(pid), `the ${name} grandchild ${pid} still runs`).toBe(false);
    }
  });

  it('names a CLI that cannot start `crashed`', async () => {
    const agent: AgentConfig = { name: 'x', kind: 'command', command: join(scratch.path, 'missing'), model: null, maxConcurrent: 1, env: [], args: [] };
    const r = await run(agent).report;
    expect(r.outcome).toBe('crashed');
    expect(r.reason).toContain('could not start');
  });

  it('gives the agent only the allow-listed environment and what its config names', async () => {
    process.env.ORCH_SECRET_FOR_TEST = 'leak';
    process.env.ALLOWED_FOR_TEST = 'yes';
    try {
      const env = agentBaseEnvironment(process.env, ['ALLOWED_FOR_TEST', 'SET_HERE=1']);
      const agent = scriptAgent('echo "secret=${ORCH_SECRET_FOR_TEST:-none} allowed=$ALLOWED_FOR_TEST set=$SET_HERE home=$HOME"');
      const { report, events } = run(agent, { spec: spec({ env }) });
      await report;
      expect(events[0]).toEqual({ type: 'assistant_text', text: `secret=none allowed=yes set=1 home=${join(scratch.path, 'run-home')}` });
    } finally {
      delete process.env.ORCH_SECRET_FOR_TEST;
      delete process.env.ALLOWED_FOR_TEST;
    }
  });

  it('closes stdin once the prompt is written, so a CLI reading it to the end does not hang', async () => {
    const { report, events } = run(scriptAgent('wc -c\necho read-all'), { timeoutMs: 5000 });
    expect((await report).outcome).toBe('succeeded');
    expect(events.map((e) => (e.type === 'assistant_text' ? e.text.trim() : e.type))).toEqual([String('do the thing'.length), 'read-all']);
  });

  it('hands a prompt longer than one argument may be on stdin and in ORCH_PROMPT_FILE', async () => {
    const prompt = `${'a long brief. '.repeat(16 * 1024)}the end`;
    const agent = scriptAgent('cmp -s - "$ORCH_PROMPT_FILE" && echo same || echo differ\ntail -c 7 "$ORCH_PROMPT_FILE"; echo');
    const { report, events } = run(agent, { spec: spec({ prompt }) });
    expect((await report).outcome).toBe('succeeded');
    expect(events).toEqual([{ type: 'assistant_text', text: 'same' }, { type: 'assistant_text', text: 'the end' }]);
  });

  it('runs a CLI that exits without reading a long prompt to its end', async () => {
    const { report, events } = run(scriptAgent('echo started'), { spec: spec({ prompt: 'x'.repeat(1024 * 1024) }) });
    expect((await report).outcome).toBe('succeeded');
    expect(events).toEqual([{ type: 'assistant_text', text: 'started' }]);
  });

  it('names a run whose {prompt} argument is too long `crashed`, saying what to use instead', async () => {
    const agent = { ...scriptAgent('echo never'), args: ['{prompt}'] };
    const r = await run(agent, { spec: spec({ prompt: 'x'.repeat(200 * 1024) }) }).report;
    expect(r.outcome).toBe('crashed');
    expect(r.reason).toMatch(/E2BIG .*read the prompt from stdin or \$ORCH_PROMPT_FILE instead of \{prompt\}/);
  });
});

describe('output the supervisor keeps', () => {
  // The line is streamed by the agent from /dev/zero: neither the test nor Orch ever holds it whole.
  const hugeLine = (bytes: number) => scriptAgent(`head -c ${bytes} /dev/zero | tr '\\0' 'x'\necho\necho after`);
  const MB = 1024 * 1024;

  it('keeps a 600 MB line cut, with a marker saying how much was left out, and reads on', async () => {
    const { report, events } = run(hugeLine(600 * MB), { maxOutputBytes: 1024 * MB, maxLineBytes: 1000 });
    const r = await report;
    expect(r).toMatchObject({ outcome: 'succeeded', cutLines: 1, storageError: null });
    const kept = readFileSync(join(scratch.path, 'runs', '1', 'agent.jsonl'), 'utf8').split('\n');
    expect(kept[0]).toBe(`${'x'.repeat(1000)} …[Orch cut ${600 * MB - 1000} bytes of this line]`);
    expect(kept[1]).toBe('after');
    expect(events.at(-1)).toEqual({ type: 'assistant_text', text: 'after' });
  });

  it('stops a run that prints more than it may keep as `output_limit`', async () => {
    const { report, pid } = run(hugeLine(600 * MB), { maxOutputBytes: 50 * MB });
    const r = await report;
    expect(r).toMatchObject({ outcome: 'output_limit', killedFor: 'output_limit' });
    expect(r.reason).toContain('run.max_output_mb');
    expect(groupAlive(pid()!)).toBe(false);
  });

  it('splits lines across chunks and CRLF endings, and keeps a last line without a newline', async () => {
    const { report, events } = run(scriptAgent("printf 'one\\r\\ntw'\nsleep 0.1\nprintf 'o\\nthree'"));
    expect((await report).outcome).toBe('succeeded');
    expect(events).toEqual([
      { type: 'assistant_text', text: 'one' },
      { type: 'assistant_text', text: 'two' },
      { type: 'assistant_text', text: 'three' },
    ]);
  });
});

describe('what the supervisor believes of reported costs', () => {
  it('refuses a cost of 1e300 and impossible token counts, saying so, and keeps the believable ones', async () => {
    const agent = scriptAgent(
      [
        json({ type: 'cost', usd: 0.5, cumulative: false }),
        `echo '{"type":"cost","usd":1e300,"cumulative":true}'`,
        json({ type: 'usage', inputTokens: 1e15, outputTokens: 1, cumulative: false }),
        json({ type: 'cost', usd: 0.25, cumulative: false }),
      ].join('\n'),
    );
    const { report, events } = run(agent, { budgetUsd: 5 });
    const r = await report;
    expect(r).toMatchObject({ outcome: 'succeeded', costUsd: 0.75 });
    expect(r.totals.inputTokens).toBe(0);
    const refused = events.filter((e) => e.type === 'usage_refused');
    expect(refused).toHaveLength(2);
    expect(refused[0]).toMatchObject({ reason: expect.stringContaining('1e+300 USD is not believed') });
    expect(refused[1]).toMatchObject({ reason: expect.stringContaining('token count of 1000000000000000 is not believed') });
  });
});
