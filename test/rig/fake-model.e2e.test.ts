// Proves the rig against the real, pinned CLIs: each one runs headless in a fresh git repo against the fake
// model server, offline (offline-run.ts), and does what the script says. Claude and Codex also meet injected API
// errors and a stall. ORCH_RIG_RECORD=1 saves every run as a recording for parser tests (recordings.ts):
//
//   ORCH_RIG_RECORD=1 npx vitest run test/rig/fake-model.e2e.test.ts

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { makeRepo, tempDir } from '../helpers/git.js';
import { AGENT_CLI_KINDS, cliAvailable, missingCliMessage, pinnedVersion, type AgentCliKind } from './agent-clis.js';
import { headlessInvocation, writeInvocationFiles } from './cli-invocations.js';
import type { Script, ScriptTurn } from './fake-model/script.js';
import { startFakeModelServer, type FakeModelServer } from './fake-model/server.js';
import { loopbackOnlySupport } from './loopback-only.js';
import { startOfflineCli, type OfflineRunResult } from './offline-run.js';
import { saveRecording } from './recordings.js';

const RECORD = process.env.ORCH_RIG_RECORD === '1';
const RUN_TIMEOUT_MS = 50_000;

const WRITE_TURN: ScriptTurn = {
  text: 'I will create the file.',
  tools: [{ tool: 'write_file', path: 'hello.txt', content: 'hi\n' }],
  usage: { input: 2000, output: 100 },
};
const FINAL_TURN: ScriptTurn = { text: 'DONE: created hello.txt', usage: { input: 3000, output: 200 } };
const WRITE_THEN_FINISH: Script = [WRITE_TURN, FINAL_TURN];

interface AgentRun {
  result: OfflineRunResult;
  repo: string;
  server: FakeModelServer;
}

interface RunOptions {
  caseName: string;
  maxRetries?: number;
  /** Called once the CLI is running, with a way to signal its process group. */
  whileRunning?: (server: FakeModelServer, signalGroup: (signal: NodeJS.Signals) => void) => Promise<void>;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

if (!loopbackOnlySupport().available) {
  console.warn(`fake-model e2e: runs NOT loopback-only (${loopbackOnlySupport().reason}); only the tripwire and guard apply`);
}

async function runAgent(cli: AgentCliKind, script: Script, options: RunOptions): Promise<AgentRun> {
  const scratch = tempDir(`orch-e2e-${cli}-`);
  cleanups.push(scratch.cleanup);
  const repo = makeRepo(scratch.path);
  const runHome = join(scratch.path, 'home');
  const server = await startFakeModelServer({ script });
  cleanups.push(() => server.close());

  const invocation = headlessInvocation(cli, {
    prompt: 'create hello.txt',
    serverUrl: server.url,
    cwd: repo,
    runHome,
    maxRetries: options.maxRetries,
  });
  writeInvocationFiles(invocation, runHome);
  const running = await startOfflineCli([invocation.command, ...invocation.args], {
    cwd: repo,
    env: invocation.env,
    timeoutMs: RUN_TIMEOUT_MS,
    reachablePorts: [server.port],
    scratchDir: scratch.path,
  });
  cleanups.push(() => running.signalGroup('SIGKILL'));
  await options.whileRunning?.(server, running.signalGroup);
  const result = await running.result;

  if (RECORD) {
    const args = [invocation.command.replace(/^.*\//, ''), ...invocation.args];
    const maxRetries = options.maxRetries ?? null;
    const run = { cli, version: pinnedVersion(cli), caseName: options.caseName, runDir: scratch.path, serverPort: server.port, args, maxRetries };
    saveRecording({ ...run, script, result });
  }
  expect(result.timedOut, `${cli} did not finish within ${RUN_TIMEOUT_MS} ms:\n${result.stderr}`).toBe(false);
  expect(result.proxyAttempts, 'hosts the CLI tried to reach through the proxy').toEqual([]);
  expect(result.childViolations, 'connections blocked in its Node processes').toEqual([]);
  return { result, repo, server };
}

function lastEvent(result: OfflineRunResult): Record<string, unknown> | undefined {
  return result.events.at(-1);
}

function eventsOfType(result: OfflineRunResult, type: string): Record<string, unknown>[] {
  return result.events.filter((event) => event.type === type);
}

function expectScriptedFile(run: AgentRun): void {
  const file = join(run.repo, 'hello.txt');
  expect(existsSync(file), `hello.txt missing; stderr:\n${run.result.stderr}`).toBe(true);
  expect(readFileSync(file, 'utf8')).toBe('hi\n');
  expect(run.server.requests.filter((request) => request.kind === 'turn').map((request) => request.turn)).toEqual([0, 1]);
}

/** What each CLI prints last when it succeeded, and where its token counts show up. */
const SUCCESS_CHECKS: Record<AgentCliKind, (run: AgentRun) => void> = {
  claude({ result }) {
    expect(lastEvent(result)).toMatchObject({ type: 'result', subtype: 'success', is_error: false, num_turns: 2, result: 'DONE: created hello.txt' });
    // Unknown models cost $5/M input and $25/M output: (5000 × 5 + 300 × 25) / 1e6.
    expect(lastEvent(result)?.total_cost_usd).toBeCloseTo(0.0325, 6);
  },
  codex({ result }) {
    expect(lastEvent(result)).toMatchObject({ type: 'turn.completed', usage: { input_tokens: 5000, output_tokens: 300 } });
    const items = eventsOfType(result, 'item.completed').map((event) => event.item as Record<string, unknown>);
    expect(items).toContainEqual(expect.objectContaining({ type: 'file_change', status: 'completed' }));
    expect(items.at(-1)).toMatchObject({ type: 'agent_message', text: 'DONE: created hello.txt' });
  },
  opencode({ result }) {
    expect(lastEvent(result)).toMatchObject({ type: 'step_finish', part: { reason: 'stop', tokens: { input: 3000, output: 200 } } });
    expect(eventsOfType(result, 'tool_use')).toContainEqual(expect.objectContaining({ part: expect.objectContaining({ tool: 'write' }) }));
  },
  gemini({ result }) {
    expect(lastEvent(result)).toMatchObject({ type: 'result', status: 'success', stats: { input_tokens: 5000, output_tokens: 300 } });
    expect(eventsOfType(result, 'tool_use')).toContainEqual(expect.objectContaining({ tool_name: 'write_file' }));
  },
};

for (const cli of AGENT_CLI_KINDS) {
  const available = cliAvailable(cli);
  describe.skipIf(!available)(`${cli} CLI against the fake model server${available ? '' : ` — skipped: ${missingCliMessage(cli)}`}`, () => {
    it('writes the scripted file, then ends with the scripted text and exit 0', async () => {
      const run = await runAgent(cli, WRITE_THEN_FINISH, { caseName: 'success' });
      expect(run.result.exitCode, run.result.stderr).toBe(0);
      expectScriptedFile(run);
      SUCCESS_CHECKS[cli](run);
    });
  });
}

function apiRetries(result: OfflineRunResult): Record<string, unknown>[] {
  return result.events.filter((event) => event.type === 'system' && event.subtype === 'api_retry');
}

describe.skipIf(!cliAvailable('claude'))(`claude CLI meeting API errors${cliAvailable('claude') ? '' : ` — skipped: ${missingCliMessage('claude')}`}`, () => {
  it('529 overloaded: retries once, then reports is_error with subtype success and exits 1', async () => {
    const { result } = await runAgent('claude', [{ status: 529 }], { caseName: 'api-error-529', maxRetries: 1 });
    expect(result.exitCode).toBe(1);
    expect(apiRetries(result)).toEqual([expect.objectContaining({ attempt: 1, max_retries: 1, error_status: 529, error: 'overloaded' })]);
    expect(lastEvent(result)).toMatchObject({ type: 'result', subtype: 'success', is_error: true, api_error_status: 529 });
  });

  it('500 without retries: reports is_error and exits 1', async () => {
    const { result, server } = await runAgent('claude', [{ status: 500 }], { caseName: 'api-error-500', maxRetries: 0 });
    expect(result.exitCode).toBe(1);
    expect(lastEvent(result)).toMatchObject({ type: 'result', is_error: true, api_error_status: 500 });
    expect(server.requests.filter((request) => request.kind === 'turn')).toHaveLength(1);
  });

  it('429 rate limit: waits retry-after, retries, then reports is_error and exits 1', async () => {
    const { result } = await runAgent('claude', [{ status: 429, retryAfterSeconds: 1 }], { caseName: 'rate-limit-429', maxRetries: 1 });
    expect(result.exitCode).toBe(1);
    expect(apiRetries(result)).toEqual([expect.objectContaining({ error_status: 429, error: 'rate_limit', retry_delay_ms: 1000 })]);
    expect(lastEvent(result)).toMatchObject({ type: 'result', is_error: true, api_error_status: 429 });
  });

  it('429 once: the retry succeeds and the run completes normally', async () => {
    const script: Script = [{ ...WRITE_TURN, status: 429, errorAttempts: 1, retryAfterSeconds: 1 }, FINAL_TURN];
    const run = await runAgent('claude', script, { caseName: 'rate-limit-429-recovered', maxRetries: 2 });
    expect(run.result.exitCode).toBe(0);
    expect(apiRetries(run.result)).toHaveLength(1);
    expect(lastEvent(run.result)).toMatchObject({ type: 'result', subtype: 'success', is_error: false });
    expect(readFileSync(join(run.repo, 'hello.txt'), 'utf8')).toBe('hi\n');
  });

  it('stalled stream: SIGTERM to the process group ends it with 143 and no result line', async () => {
    const { result } = await runAgent('claude', [{ text: 'never sent', hang: true }], {
      caseName: 'stall-sigterm',
      async whileRunning(server, signalGroup) {
        await server.waitForRequest((request) => request.kind === 'turn', RUN_TIMEOUT_MS);
        await sleep(500);
        signalGroup('SIGTERM');
      },
    });
    expect(result.exitCode === 143 || result.signal === 'SIGTERM').toBe(true);
    expect(eventsOfType(result, 'result')).toEqual([]);
    expect(result.events[0]).toMatchObject({ type: 'system', subtype: 'init' });
  });
});

describe.skipIf(!cliAvailable('codex'))(`codex CLI meeting API errors${cliAvailable('codex') ? '' : ` — skipped: ${missingCliMessage('codex')}`}`, () => {
  it('500: the turn fails and codex exits 1', async () => {
    const { result } = await runAgent('codex', [{ status: 500 }], { caseName: 'api-error-500', maxRetries: 0 });
    expect(result.exitCode).toBe(1);
    expect(lastEvent(result)).toMatchObject({ type: 'turn.failed' });
  });

  it('429: the turn fails and codex exits 1', async () => {
    const { result } = await runAgent('codex', [{ status: 429, retryAfterSeconds: 1 }], { caseName: 'rate-limit-429', maxRetries: 0 });
    expect(result.exitCode).toBe(1);
    expect(lastEvent(result)).toMatchObject({ type: 'turn.failed' });
  });
});
