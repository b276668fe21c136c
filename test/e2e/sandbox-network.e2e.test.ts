// `network: model-only` through the real engine (runTask: worktree, sandboxed agent, judge, merge):
// the four real, pinned agent CLIs each complete a task against their fake model server at the same
// loopback URL they are configured with, from inside bubblewrap's empty network namespace; and a
// `command` agent that reaches for anything else is refused, the refusal named in the run's log.
// Needs the build (the relay runs from dist/): `npx tsc -p tsconfig.build.json`.

import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openOrch, type Orch } from '../../src/engine/context.js';
import { runDirectory } from '../../src/engine/attempt.js';
import { runTask } from '../../src/engine/runner.js';
import { addTask } from '../../src/engine/tasks.js';
import { relayScriptPath } from '../../src/sandbox/network.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';
import { AGENT_CLI_KINDS, cliAvailable, cliPath, missingCliMessage, type AgentCliKind } from '../rig/agent-clis.js';
import type { Script } from '../rig/fake-model/script.js';
import { startFakeModelServer } from '../rig/fake-model/server.js';

const FAKE_MODEL = 'fake-model';

beforeAll(() => {
  const missing = AGENT_CLI_KINDS.filter((kind) => !cliAvailable(kind));
  // The CLIs are part of the test setup (npm test installs them): their absence is a failure, not a skip.
  if (missing.length > 0) throw new Error(missing.map(missingCliMessage).join('\n'));
  relayScriptPath();
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** How each agent reaches its fake server: only through its own `env` entries. */
function agentEntry(kind: AgentCliKind, url: string): Record<string, unknown> {
  switch (kind) {
    case 'claude':
      return { kind, command: cliPath(kind), model: FAKE_MODEL, env: [`ANTHROPIC_BASE_URL=${url}`, 'ANTHROPIC_API_KEY=fake-key', 'CLAUDE_CODE_MAX_RETRIES=0', 'DISABLE_AUTOUPDATER=1'] };
    case 'codex':
      return { kind, command: cliPath(kind), model: FAKE_MODEL, env: [`ORCH_CODEX_BASE_URL=${url}/v1`, 'OPENAI_API_KEY=fake-key', 'ORCH_CODEX_MAX_RETRIES=0'] };
    case 'opencode':
      return {
        kind,
        command: cliPath(kind),
        model: `anthropic/${FAKE_MODEL}`,
        env: [
          `ORCH_OPENCODE_BASE_URL=${url}/v1`,
          'ANTHROPIC_API_KEY=fake-key',
          `npm_config_registry=${url}/npm-registry/`,
          `OPENCODE_CONFIG_CONTENT=${JSON.stringify({ provider: { anthropic: { options: { maxRetries: 0 }, models: { [FAKE_MODEL]: { name: 'Fake model' } } } } })}`,
        ],
      };
    case 'gemini':
      return { kind, command: cliPath(kind), model: 'gemini-2.5-flash', env: [`GOOGLE_GEMINI_BASE_URL=${url}`, 'GEMINI_API_KEY=fake-key'] };
  }
}

const contractBlock = (summary: string) => ['All done.', '```json', JSON.stringify({ status: 'done', summary, remaining: '', follow_ups: [] }), '```'].join('\n');

const WRITE_AND_FINISH: Script = [
  { text: 'Writing the file.', tools: [{ tool: 'write_file', path: 'hello.txt', content: 'hi from the sandbox\n' }], usage: { input: 2000, output: 100 } },
  { text: contractBlock('wrote hello.txt'), usage: { input: 3000, output: 200 } },
];

async function world(agents: Record<string, unknown>): Promise<{ orch: Orch; repo: string; home: string; scratch: string }> {
  const scratch = tempDir('orch-sbx-net-');
  cleanups.push(scratch.cleanup);
  const repo = makeRepo(scratch.path, 'app');
  const home = join(scratch.path, 'home');
  mkdirSync(home);
  writeFileSync(
    join(home, 'config.yaml'),
    JSON.stringify({ agents, projects: { app: { path: repo, agents: Object.keys(agents), max_attempts: 1, sandbox: 'on', network: 'model-only' } } }),
  );
  const orch = await openOrch(home);
  cleanups.push(() => orch.close());
  return { orch, repo, home, scratch: scratch.path };
}

describe.each(AGENT_CLI_KINDS)('%s with network: model-only', (kind) => {
  it('completes a task in the sandbox, talking to its model API at its own loopback URL', { timeout: 180_000 }, async () => {
    const server = await startFakeModelServer({ script: WRITE_AND_FINISH });
    cleanups.push(() => server.close());
    const { orch, repo } = await world({ [kind]: agentEntry(kind, server.url) });
    const task = await addTask(orch.store, { project: 'app', title: 'Write hello' }, orch.now());
    const summary = await runTask(orch, task.id, { agent: kind, sourceEnv: { PATH: process.env.PATH } });
    const run = (await orch.store.getRun(summary.runId))!;
    expect(summary.task.state, `${summary.note}\n${run.outcome}: ${JSON.stringify(run.result)}`).toBe('done');
    expect(git(repo, ['show', 'main:hello.txt'])).toBe('hi from the sandbox');
    expect(server.requests.filter((r) => r.kind === 'turn').length).toBeGreaterThanOrEqual(2);
    const [sandbox] = (await orch.store.listEvents({ types: ['run.sandbox'] })).filter((e) => e.runId === summary.runId);
    expect(sandbox?.data).toMatchObject({ sandbox: 'on', network: 'model-only' });
    expect((await orch.store.listEvents({ types: ['run.sandbox_denied'] })).filter((e) => e.runId === summary.runId)).toEqual([]);
  });
});

// A `command` agent whose model API is named by ORCH_MODEL_BASE_URL; it reports what each try gave.
const PROBE = `
import http from 'node:http';
const proxy = new URL(process.env.HTTPS_PROXY);
const results = {};
const get = (url) => new Promise((resolve) => http.get(url, (res) => { let b = ''; res.on('data', (c) => (b += c)); res.on('end', () => resolve(res.statusCode + ' ' + b)); }).on('error', (e) => resolve(e.code)));
const connect = (target) => new Promise((resolve) => http.request({ host: proxy.hostname, port: proxy.port, method: 'CONNECT', path: target }).on('connect', (res, socket) => { socket.destroy(); resolve(String(res.statusCode)); }).on('error', (e) => resolve(e.code)).end());
results.model = await get(process.env.ORCH_MODEL_BASE_URL + '/ping');
results.other = await get(process.env.OTHER_URL + '/ping');
results.github = await connect('github.com:443');
console.log(JSON.stringify(results));
`;

describe('a command agent with network: model-only', () => {
  it('reaches its model API, not another loopback listener, and a refused CONNECT is named in the run log', { timeout: 120_000 }, async () => {
    const listen = async (name: string) => {
      const server = createServer((_req, res) => res.end(`${name} here`));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
      return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    };
    const model = await listen('model');
    const other = await listen('other');
    const scratch = tempDir('orch-sbx-probe-');
    cleanups.push(scratch.cleanup);
    // The probe lives beside the agent's program, whose folder the sandbox mounts read-only.
    const probe = join(scratch.path, 'probe.mjs');
    writeFileSync(probe, PROBE);
    const agent = join(scratch.path, 'agent.sh');
    writeFileSync(
      agent,
      [
        '#!/bin/sh',
        `"${process.execPath}" "${probe}" > probe.json`,
        'git add probe.json && git -c user.name=A -c user.email=a@b commit -qm probe',
        `printf '%s\\n' '\`\`\`json' '{"status":"done","summary":"probed","remaining":"","follow_ups":[]}' '\`\`\`'`,
      ].join('\n'),
    );
    chmodSync(agent, 0o755);
    const { orch: reopened, repo, home } = await world({ prober: { kind: 'command', command: agent, env: [`ORCH_MODEL_BASE_URL=${model}`, `OTHER_URL=${other}`] } });
    const task = await addTask(reopened.store, { project: 'app', title: 'Probe the network' }, reopened.now());
    const summary = await runTask(reopened, task.id, { agent: 'prober', sourceEnv: { PATH: process.env.PATH } });
    expect(summary.task.state, summary.note).toBe('done');
    const results = JSON.parse(git(repo, ['show', 'main:probe.json'])) as Record<string, string>;
    expect(results).toEqual({ model: '200 model here', other: 'ECONNREFUSED', github: '403' });
    const denied = (await reopened.store.listEvents({ types: ['run.sandbox_denied'] })).filter((e) => e.runId === summary.runId);
    expect(denied.map((e) => e.data)).toEqual([{ line: 'sandbox denied a connection to github.com:443' }]);
    const runDir = runDirectory(home, summary.runId);
    expect(readFileSync(join(runDir, 'sandbox-denials.log'), 'utf8')).toBe('sandbox denied a connection to github.com:443\n');
    expect(readFileSync(join(runDir, 'agent.stderr.log'), 'utf8')).toContain('[orch] sandbox denial: sandbox denied a connection to github.com:443');
  });
});
