// A run's permission requests and questions through its API on a Unix socket, asked by Orch's own MCP
// server for runs (the built dist/run-mcp/main.js, a real process, driven by the MCP SDK's client):
// the rules, a person, and the timeout each decide. Needs the build: `npx tsc -p tsconfig.build.json`.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { askWorkerApi } from '../../src/cli/worker-api-socket.js';
import type { Approval } from '../../src/core/approvals.js';
import { WORKER_API_SOCKET_VARIABLE, WORKER_API_TOKEN_VARIABLE } from '../../src/core/worker-api.js';
import { decideAsPerson, type ApprovalCaller } from '../../src/engine/approvals.js';
import { openOrch, type Orch } from '../../src/engine/context.js';
import { addTask } from '../../src/engine/tasks.js';
import { openWorkerApi, type WorkerApi } from '../../src/engine/worker-api.js';
import { makeRepo, tempDir } from '../helpers/git.js';

const RUN_MCP_SERVER = fileURLToPath(new URL('../../dist/run-mcp/main.js', import.meta.url));

let scratch: { path: string; cleanup: () => void };
let orch: Orch;
const closers: (() => Promise<unknown>)[] = [];

beforeEach(async () => {
  scratch = tempDir('orch-approvals-');
  const home = join(scratch.path, 'home');
  mkdirSync(home);
  const approvals = { enabled: true, allow: ['Bash(npm test*)'], deny: ['Bash(rm *)'] };
  writeFileSync(
    join(home, 'config.yaml'),
    JSON.stringify({
      projects: {
        app: { path: makeRepo(scratch.path, 'app'), approvals: { ...approvals, timeout_s: 3600 } },
        quick: { path: makeRepo(scratch.path, 'quick'), approvals: { ...approvals, timeout_s: 0.2 } },
      },
    }),
  );
  orch = await openOrch(home);
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await orch.close();
  scratch.cleanup();
});

/** A running attempt of a task of `project`, with its run's API open. */
async function runWithApi(project: string): Promise<{ caller: ApprovalCaller; api: WorkerApi }> {
  const task = await addTask(orch.store, { project, title: 'Ask first' }, orch.now());
  const claim = (await orch.store.claimTask({ taskId: task.id, owner: 'test:1', leaseMs: 60_000, now: orch.now() }))!;
  const run = await orch.store.createRun({ taskId: task.id, project, attempt: 1, agent: 'claude', startedAt: orch.now() }, claim.token);
  const caller = { project, taskId: task.id, runId: run.id, role: task.role, cwd: '/work/tree' };
  const api = await openWorkerApi(orch, { run: caller }, join(scratch.path, `run-${run.id}`));
  closers.push(() => api.close());
  return { caller, api };
}

/** Orch's MCP server for the run, started as the agent CLI starts it, with the SDK's client connected. */
async function mcpClient(api: WorkerApi): Promise<Client> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [RUN_MCP_SERVER], env: { ...api.env, PATH: process.env.PATH ?? '' }, stderr: 'pipe' });
  const client = new Client({ name: 'test', version: '1' });
  await client.connect(transport);
  closers.push(() => client.close());
  return client;
}

const textOf = (result: Awaited<ReturnType<Client['callTool']>>) => (result.content as { type: string; text: string }[])[0]!.text;

/** Waits (as a person would, looking at the inbox) for the run's next pending request. */
async function nextPending(runId: number): Promise<Approval> {
  for (;;) {
    const [pending] = await orch.store.listApprovals({ runId, state: 'pending' });
    if (pending) return pending;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("a run's permission requests", () => {
  it('are answered by the rules at once, in the JSON Claude Code expects of a permission prompt tool', async () => {
    const { api } = await runWithApi('app');
    const client = await mcpClient(api);
    expect((await client.listTools()).tools.map((tool) => tool.name).sort()).toEqual(['ask_person', 'permission_prompt']);
    const allowed = await client.callTool({ name: 'permission_prompt', arguments: { tool_name: 'Bash', input: { command: 'npm test' }, tool_use_id: 'toolu_1' } });
    expect(JSON.parse(textOf(allowed))).toEqual({ behavior: 'allow', updatedInput: { command: 'npm test' } });
    const denied = await client.callTool({ name: 'permission_prompt', arguments: { tool_name: 'Bash', input: { command: 'rm -rf build' } } });
    expect(JSON.parse(textOf(denied))).toEqual({ behavior: 'deny', message: 'Orch: denied by rule Bash(rm *)' });
  });

  it('wait for a person otherwise, whose reason the agent hears', async () => {
    const { caller, api } = await runWithApi('app');
    const client = await mcpClient(api);
    const asking = client.callTool({ name: 'permission_prompt', arguments: { tool_name: 'WebFetch', input: { url: 'https://example.com' } } });
    const pending = await nextPending(caller.runId);
    expect(pending).toMatchObject({ kind: 'permission', tool: 'WebFetch', input: { url: 'https://example.com' }, taskId: caller.taskId });
    await decideAsPerson(orch, pending.id, 'deny', 'no network today');
    expect(JSON.parse(textOf(await asking))).toEqual({ behavior: 'deny', message: 'Orch: no network today' });
    // Decided once: a second decision is refused in one line.
    await expect(decideAsPerson(orch, pending.id, 'approve', null)).rejects.toThrow(`approval #${pending.id} was already decided (denied by person): nothing to do`);
  });

  it('are denied once nobody decided within the timeout', async () => {
    const { caller, api } = await runWithApi('quick');
    const answer = await askWorkerApi(api.socketPath, api.env[WORKER_API_TOKEN_VARIABLE]!, { kind: 'permission', tool: 'WebFetch', input: {}, toolUseId: null });
    expect(answer).toMatchObject({ kind: 'permission', allow: false, message: 'nobody decided within 0.2 s: denied by approvals.on_timeout' });
    expect(await orch.store.listApprovals({ runId: caller.runId })).toMatchObject([{ state: 'timed_out', decidedBy: 'timeout' }]);
  });
});

describe("a run's questions", () => {
  it('get the answer a person gives', async () => {
    const { caller, api } = await runWithApi('app');
    const client = await mcpClient(api);
    const asking = client.callTool({ name: 'ask_person', arguments: { question: 'Which port should the server use?' } });
    const pending = await nextPending(caller.runId);
    expect(pending).toMatchObject({ kind: 'question', question: 'Which port should the server use?' });
    await expect(decideAsPerson(orch, pending.id, 'approve', null)).rejects.toThrow('this is a question: answer it');
    await decideAsPerson(orch, pending.id, 'answer', '8080');
    expect(textOf(await asking)).toBe('8080');
    const events = await orch.store.listEvents({ taskId: caller.taskId, types: ['approval.requested', 'approval.decided'] });
    expect(events.map((e) => [e.type, e.data.state ?? null, e.data.decidedBy ?? null])).toEqual([
      ['approval.requested', 'pending', null],
      ['approval.decided', 'answered', 'person'],
    ]);
  });

  it('get "no answer" once nobody answered within the timeout', async () => {
    const { caller, api } = await runWithApi('quick');
    const client = await mcpClient(api);
    expect(textOf(await client.callTool({ name: 'ask_person', arguments: { question: 'Anyone there?' } }))).toBe('no answer');
    expect(await orch.store.listApprovals({ runId: caller.runId })).toMatchObject([{ kind: 'question', state: 'timed_out', decidedBy: 'timeout', reason: expect.stringContaining('no answer') }]);
  });

  it("leave the inbox when the run's API closes while they wait", async () => {
    const { caller, api } = await runWithApi('app');
    const asking = askWorkerApi(api.socketPath, api.env[WORKER_API_TOKEN_VARIABLE]!, { kind: 'question', question: 'Still there?' });
    asking.catch(() => undefined);
    await nextPending(caller.runId);
    await api.close();
    await expect(asking).rejects.toThrow();
    for (;;) {
      const [approval] = await orch.store.listApprovals({ runId: caller.runId });
      if (approval!.state !== 'pending') {
        expect(approval).toMatchObject({ state: 'timed_out', reason: 'the run ended before anyone decided' });
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
});

describe("a run's API", () => {
  it("answers a run's requests only, and a worker's API no permission requests", async () => {
    const { api } = await runWithApi('app');
    await expect(askWorkerApi(api.socketPath, api.env[WORKER_API_TOKEN_VARIABLE]!, { kind: 'ready', project: null })).rejects.toThrow(
      `this run's API answers permission requests and questions only, not "ready"`,
    );
    expect(api.env[WORKER_API_SOCKET_VARIABLE]).toBe(api.socketPath);
    const worker = await openWorkerApi(orch, { worker: 999 }, join(scratch.path, 'worker'));
    closers.push(() => worker.close());
    await expect(askWorkerApi(worker.socketPath, worker.env[WORKER_API_TOKEN_VARIABLE]!, { kind: 'question', question: 'x' })).rejects.toThrow('not from pull workers');
  });
});
