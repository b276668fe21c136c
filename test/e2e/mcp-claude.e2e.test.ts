// An agent files a follow-up task through `orch mcp`: the real Claude Code, offline against the fake
// model, is given the built `orch mcp` as an MCP server, and the model calls its add_task tool.

import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, orch } from '../helpers/cli.js';
import { makeRepo, tempDir } from '../helpers/git.js';
import { cliAvailable, missingCliMessage } from '../rig/agent-clis.js';
import { headlessInvocation, writeInvocationFiles } from '../rig/cli-invocations.js';
import type { Script } from '../rig/fake-model/script.js';
import { startFakeModelServer } from '../rig/fake-model/server.js';
import { startOfflineCli } from '../rig/offline-run.js';

const RUN_TIMEOUT_MS = 50_000;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const available = cliAvailable('claude');

describe.skipIf(!available)(`claude CLI with orch mcp${available ? '' : ` — skipped: ${missingCliMessage('claude')}`}`, () => {
  it('adds a follow-up task to the project it works in, and reads the reply', async () => {
    const scratch = tempDir('orch-e2e-mcp-');
    cleanups.push(scratch.cleanup);
    const home = join(scratch.path, 'orch-home');
    const repo = makeRepo(scratch.path, 'shop');
    expect(orch(['init'], { cwd: repo, home }).code).toBe(0);

    const script: Script = [
      { text: 'I will file the follow-up.', tools: [{ tool: 'mcp', name: 'add_task', input: { title: 'Cover the date parser with tests', labels: ['follow-up'], priority: 'high' } }] },
      { text: 'DONE: filed the follow-up' },
    ];
    const server = await startFakeModelServer({ script });
    cleanups.push(() => server.close());

    const runHome = join(scratch.path, 'run-home');
    const invocation = headlessInvocation('claude', { prompt: 'file a follow-up task for the parser tests', serverUrl: server.url, cwd: repo, runHome });
    writeInvocationFiles(invocation, runHome);
    // Claude passes an MCP server only a few variables of its own (PATH, HOME, …): ORCH_HOME goes in the config.
    const mcpConfig = { mcpServers: { orch: { command: process.execPath, args: [CLI, 'mcp'], env: { ORCH_HOME: home } } } };
    const allowed = invocation.args.indexOf('--allowedTools') + 1;
    const args = invocation.args.map((arg, i) => (i === allowed ? `${arg},mcp__orch__add_task` : arg));
    const running = await startOfflineCli([invocation.command, ...args, '--mcp-config', JSON.stringify(mcpConfig), '--strict-mcp-config'], {
      cwd: repo,
      env: invocation.env,
      timeoutMs: RUN_TIMEOUT_MS,
      reachablePorts: [server.port],
      scratchDir: scratch.path,
    });
    cleanups.push(() => running.signalGroup('SIGKILL'));
    const result = await running.result;

    expect(result.timedOut, `claude did not finish within ${RUN_TIMEOUT_MS} ms:\n${result.stderr}`).toBe(false);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.proxyAttempts).toEqual([]);
    expect(result.childViolations).toEqual([]);
    expect(result.events.find((event) => event.type === 'system' && event.subtype === 'init')).toMatchObject({
      mcp_servers: [{ name: 'orch', status: 'connected' }],
      tools: expect.arrayContaining(['mcp__orch__add_task', 'mcp__orch__list_tasks']),
    });
    // The tool's reply reached the model as the tool result.
    expect(JSON.stringify(result.events.filter((event) => event.type === 'user'))).toMatch(/Added #1 to shop \(new\): Cover the date parser with tests/);
    expect(result.events.at(-1)).toMatchObject({ type: 'result', subtype: 'success', is_error: false, result: 'DONE: filed the follow-up' });

    const db = new Database(join(home, 'orch.db'), { readonly: true });
    try {
      expect(db.prepare('select project, title, state, priority, labels from tasks').all()).toEqual([
        { project: 'shop', title: 'Cover the date parser with tests', state: 'new', priority: 1, labels: '["follow-up"]' },
      ]);
    } finally {
      db.close();
    }
  });
});
