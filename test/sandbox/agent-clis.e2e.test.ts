// The four real, pinned agent CLIs, each driven by Orch's own adapter and supervisor, run inside
// bubblewrap with `network: model-only`: an empty network namespace whose only way out is the run's
// allow-listing proxy. Each completes a scripted edit against its fake model server on the host's
// loopback, at the same base URL it has outside. The sandbox here is this file's own plain bwrap
// command line (system read-only, the worktree and the run's home writable, a private /tmp), so the
// network holds on its own. Needs the build (the relay runs from dist/).

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AgentAdapter, AgentConfig, RunSpec } from '../../src/agents/agent.js';
import { agentBaseEnvironment } from '../../src/agents/environment.js';
import { adapterFor } from '../../src/agents/registry.js';
import { superviseRun } from '../../src/agents/supervisor.js';
import { groupAlive } from '../../src/agents/process-group.js';
import { modelEndpointsOf } from '../../src/core/model-endpoints.js';
import { openSandboxNetwork, relayScriptPath, type OpenedSandboxNetwork } from '../../src/sandbox/network.js';
import { makeRepo, tempDir } from '../helpers/git.js';
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

/** Each agent reaches its fake server only through its own `env` entries, as a person would configure it. */
function agentConfig(kind: AgentCliKind, url: string): AgentConfig {
  const base = { name: kind, kind, command: cliPath(kind), maxConcurrent: 1, args: [] };
  switch (kind) {
    case 'claude':
      return { ...base, model: FAKE_MODEL, env: [`ANTHROPIC_BASE_URL=${url}`, 'ANTHROPIC_API_KEY=fake-key', 'CLAUDE_CODE_MAX_RETRIES=0', 'DISABLE_AUTOUPDATER=1'] };
    case 'codex':
      return { ...base, model: FAKE_MODEL, env: [`ORCH_CODEX_BASE_URL=${url}/v1`, 'OPENAI_API_KEY=fake-key', 'ORCH_CODEX_MAX_RETRIES=0'] };
    case 'opencode':
      return {
        ...base,
        model: `anthropic/${FAKE_MODEL}`,
        env: [
          `ORCH_OPENCODE_BASE_URL=${url}/v1`,
          'ANTHROPIC_API_KEY=fake-key',
          `npm_config_registry=${url}/npm-registry/`,
          `OPENCODE_CONFIG_CONTENT=${JSON.stringify({ provider: { anthropic: { options: { maxRetries: 0 }, models: { [FAKE_MODEL]: { name: 'Fake model' } } } } })}`,
        ],
      };
    case 'gemini':
      return { ...base, model: 'gemini-2.5-flash', env: [`GOOGLE_GEMINI_BASE_URL=${url}`, 'GEMINI_API_KEY=fake-key'] };
  }
}

/** The folder of the pinned agent CLIs (test/agent-clis). */
const AGENT_CLIS_ROOT = resolve(dirname(cliPath('claude')), '..', '..');

/**
 * The adapter's own invocation, run in bubblewrap: the system read-only, a private /tmp, the worktree
 * and the run's home writable, and the network's namespace, binds, environment and relay.
 */
function sandboxed(adapter: AgentAdapter, network: OpenedSandboxNetwork, writable: string[]): AgentAdapter {
  return {
    ...adapter,
    invocation(spec, agent) {
      const inner = adapter.invocation(spec, agent);
      const args = [
        '--die-with-parent',
        '--unshare-pid',
        '--unshare-ipc',
        '--unshare-uts',
        ...(network.unshareNet ? ['--unshare-net'] : []),
        '--ro-bind', '/', '/',
        '--dev', '/dev',
        '--proc', '/proc',
        '--tmpfs', '/tmp',
        // The pinned CLIs, visible again when the checkout lives under /tmp (a fresh clone in a temp dir).
        '--ro-bind', AGENT_CLIS_ROOT, AGENT_CLIS_ROOT,
        ...[...writable, ...network.binds].flatMap((path) => ['--bind', path, path]),
        ...network.readOnlyBinds.flatMap((path) => ['--ro-bind', path, path]),
        '--chdir', spec.cwd,
        '--',
        ...network.wrap([inner.command, ...inner.args]),
      ];
      return { ...inner, command: 'bwrap', args, env: { ...inner.env, ...network.env } };
    },
  };
}

const WRITE_AND_FINISH: Script = [
  { text: 'Writing the file.', tools: [{ tool: 'write_file', path: 'hello.txt', content: 'hi from the sandbox\n' }], usage: { input: 2000, output: 100 } },
  { text: 'All done: hello.txt is written.', usage: { input: 3000, output: 200 } },
];

/** A fresh repository, run folder and fake model server for one run of `kind`, and its RunSpec. */
async function runSetup(kind: AgentCliKind) {
  const scratch = tempDir('orch-sbx-cli-');
  cleanups.push(scratch.cleanup);
  const server = await startFakeModelServer({ script: WRITE_AND_FINISH });
  cleanups.push(() => server.close());
  const repo = makeRepo(scratch.path, 'app');
  const runDir = join(scratch.path, 'run');
  const runHome = join(runDir, 'home');
  mkdirSync(runHome, { recursive: true, mode: 0o700 });
  const agent = agentConfig(kind, server.url);
  const spec: RunSpec = {
    prompt: 'Create hello.txt as the plan says.',
    systemPromptAppend: null,
    model: null,
    tools: { mode: 'edit', allowedTools: [], deniedTools: [], writableDirs: [] },
    budgetUsd: null,
    maxTurns: null,
    resumeSessionId: null,
    cwd: repo,
    runHome,
    env: agentBaseEnvironment({ PATH: process.env.PATH }, agent.env),
  };
  const supervise = (network: OpenedSandboxNetwork) =>
    superviseRun({
      adapter: sandboxed(adapterFor(kind), network, [repo, runHome]),
      agent,
      spec,
      logPath: join(runDir, 'agent.jsonl'),
      timeoutMs: 150_000,
      stallMs: null,
      budgetUsd: null,
      prices: {},
    });
  return { server, repo, runDir, agent, spec, supervise };
}

describe.each(AGENT_CLI_KINDS)('%s in a model-only sandbox', (kind) => {
  it('completes a scripted edit against its model API, the only thing it can reach', { timeout: 180_000 }, async () => {
    const { server, repo, runDir, agent, spec, supervise } = await runSetup(kind);
    // Codex's own sandbox for its commands (bubblewrap again) cannot start inside this one, which
    // already confines it to the worktree: it runs with its own switched off.
    if (kind === 'codex') spec.tools.mode = 'full';
    // What the sandbox lets through is derived from the run's own environment, as Orch derives it.
    const endpoints = modelEndpointsOf(kind, adapterFor(kind).invocation(spec, agent).env, agent.model);
    expect(endpoints.length).toBeGreaterThan(0);
    const network = await openSandboxNetwork({ mode: 'model-only', modelEndpoints: endpoints, runDir });
    cleanups.push(() => network.close());

    const report = await supervise(network);
    const denials = network.denials().map((d) => `${d.host}:${d.port}`);
    expect(report.outcome, `${report.reason}\n${report.stderrTail}\ndenied: ${denials.join(', ')}`).toBe('succeeded');
    expect(readFileSync(join(repo, 'hello.txt'), 'utf8')).toBe('hi from the sandbox\n');
    expect(server.requests.filter((r) => r.kind === 'turn').length).toBeGreaterThanOrEqual(2);
    expect(report.totals.outputTokens).toBeGreaterThan(0);
    // Every connection the CLI made through the proxy went to its model API: none was refused.
    expect(denials).toEqual([]);
    expect(existsSync(join(runDir, 'sandbox-denials.log'))).toBe(false);
    expect(groupAlive(report.pid!)).toBe(false);
  });
});

describe('the same run with network: none', () => {
  it('never reaches the model API, and fails for it', { timeout: 180_000 }, async () => {
    const { server, repo, runDir, supervise } = await runSetup('claude');
    const network = await openSandboxNetwork({ mode: 'none', modelEndpoints: [server.url], runDir });
    const report = await supervise(network);
    expect(report.outcome).not.toBe('succeeded');
    expect(server.requests).toEqual([]);
    expect(existsSync(join(repo, 'hello.txt'))).toBe(false);
  });
});
