// Routing with the real, pinned claude and codex CLIs against fake model servers on 127.0.0.1: the
// scheduler routes each task — by its label, by the router's JSON answer, or by the round robin when
// the router's answer is invalid, its CLI fails or it hangs past its time limit — and the task then
// runs through the whole pipeline with the routed agent and model.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RoutingDecision } from '../../src/core/routing.js';
import { openOrch, type Orch } from '../../src/engine/context.js';
import { runCycle } from '../../src/engine/cycle.js';
import { lastRouting } from '../../src/engine/router.js';
import { addTask } from '../../src/engine/tasks.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';
import { cliAvailable, cliPath, missingCliMessage } from '../rig/agent-clis.js';
import type { Script } from '../rig/fake-model/script.js';
import { startFakeModelServer, type FakeModelServer } from '../rig/fake-model/server.js';

type Kind = 'claude' | 'codex';
const KINDS: Kind[] = ['claude', 'codex'];
const FAKE_MODEL = 'fake-model';
/** What `model_map` gives a complex task on each agent. */
const LARGE: Record<Kind, string> = { claude: 'fake-model-large', codex: 'fake-model-xl' };

beforeAll(() => {
  const missing = KINDS.filter((kind) => !cliAvailable(kind));
  if (missing.length > 0) throw new Error(missing.map(missingCliMessage).join('\n'));
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const contractBlock = (summary: string) => ['Done.', '```json', JSON.stringify({ status: 'done', summary, remaining: '', follow_ups: [] }), '```'].join('\n');
const work = (kind: Kind): Script => [
  { text: 'Writing the file.', tools: [{ tool: 'write_file', path: `by-${kind}.txt`, content: `${kind}\n` }] },
  { text: contractBlock(`written by ${kind}`) },
];
const decision = (value: unknown) => ['I have read the task.', '```json', JSON.stringify(value, null, 2), '```'].join('\n');

function agentEntry(kind: Kind, url: string): Record<string, unknown> {
  return kind === 'claude'
    ? { kind, command: cliPath(kind), model: FAKE_MODEL, env: [`ANTHROPIC_BASE_URL=${url}`, 'ANTHROPIC_API_KEY=fake-key', 'CLAUDE_CODE_MAX_RETRIES=0', 'DISABLE_AUTOUPDATER=1'] }
    : { kind, command: cliPath(kind), model: FAKE_MODEL, env: [`ORCH_CODEX_BASE_URL=${url}/v1`, 'OPENAI_API_KEY=fake-key', 'ORCH_CODEX_MAX_RETRIES=0'] };
}

interface World {
  orch: Orch;
  repo: string;
  servers: Record<Kind, FakeModelServer>;
}

/**
 * A project with agents claude and codex, each on a fake server of its own that answers work prompts
 * with `work(kind)` and the router's prompt ("Route task #…") with `routerScript`. `router` names the
 * agent that routes (it routes read-only, then may also work); null: no router.
 */
async function world(router: Kind | null, routerScript: Script, routerSettings: Record<string, unknown> = {}): Promise<World> {
  const scratch = tempDir('orch-routing-e2e-');
  cleanups.push(scratch.cleanup);
  const repo = makeRepo(scratch.path, 'app');
  writeFileSync(join(repo, 'README.md'), 'app\n');
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', 'readme']);
  const servers = {} as Record<Kind, FakeModelServer>;
  for (const kind of KINDS) {
    const server = await startFakeModelServer({ scriptFor: (texts) => (texts.join('\n').includes('# Route task #') ? routerScript : work(kind)) });
    cleanups.push(() => server.close());
    servers[kind] = server;
  }
  const home = join(scratch.path, 'home');
  mkdirSync(home);
  const routing = {
    ...(router ? { router: { agent: router, timeout_s: 20, attempts: 1, ...routerSettings } } : {}),
    model_map: { complex: { claude: LARGE.claude, codex: LARGE.codex } },
  };
  writeFileSync(
    join(home, 'config.yaml'),
    JSON.stringify({
      scheduler: { max_agents: 2, tick_interval_s: 1 },
      prices: Object.fromEntries([FAKE_MODEL, ...Object.values(LARGE)].map((m) => [m, { input: 5, output: 25 }])),
      agents: { claude: agentEntry('claude', servers.claude.url), codex: agentEntry('codex', servers.codex.url) },
      projects: { app: { path: repo, default_branch: 'main', agents: ['claude', 'codex'], max_attempts: 1, routing } },
    }),
  );
  const orch = await openOrch(home);
  cleanups.push(() => orch.close());
  return { orch, repo, servers };
}

/** Adds one task, runs the backlog until nothing is left, and returns how it was routed and run. */
async function routeAndRun(w: World, labels: string[] = []): Promise<{ routing: RoutingDecision; agent: string; model: string | null }> {
  const task = await addTask(w.orch.store, { project: 'app', title: 'Write a file', body: 'Write by-<agent>.txt.', labels }, w.orch.now());
  const results = await runCycle(w.orch, { once: true, pollMs: 500, sourceEnv: { PATH: process.env.PATH } });
  expect(results.map((r) => [r.task.id, r.task.state, r.note])).toEqual([[task.id, 'done', expect.stringMatching(/^merged as /)]]);
  const routing = (await lastRouting(w.orch.store, task.id))!;
  const runs = await w.orch.store.listRuns({ taskId: task.id });
  expect(runs).toHaveLength(1);
  const { agent, model } = runs[0]!;
  // The routed agent did the work, with the routed model, and its file landed on main.
  expect(agent).toBe(routing.agent);
  expect(model).toBe(routing.model);
  expect(git(w.repo, ['show', `main:by-${agent}.txt`])).toBe(agent);
  const asked = w.servers[agent as Kind].requests.filter((r) => r.kind === 'turn' && !JSON.stringify(r.body).includes('# Route task #'));
  expect(asked.length).toBeGreaterThan(0);
  for (const request of asked) expect((request.body as { model?: string }).model).toBe(model);
  return { routing, agent, model };
}

const routerRequests = (w: World, kind: Kind) => w.servers[kind].requests.filter((r) => JSON.stringify(r.body ?? '').includes('# Route task #'));

describe.each(KINDS)('routing with %s as the router', (router) => {
  const other: Kind = router === 'claude' ? 'codex' : 'claude';

  it('routes by label, without asking the router', async () => {
    const w = await world(router, [{ text: decision({ agent: router, complexity: 'simple', reason: 'never asked' }) }]);
    const { routing } = await routeAndRun(w, [`agent:${other}`, 'complexity:complex']);
    expect(routing).toMatchObject({ agent: other, model: LARGE[other], complexity: 'complex', by: 'label', reason: `label agent:${other}; complexity from label complexity:complex` });
    expect(routerRequests(w, router)).toEqual([]);
  });

  it("routes by the router's JSON answer, with its complexity's model and profile", async () => {
    const profile = { role: 'file writer', skills: ['shell'], tools: ['write_file'], constraints: ['touch nothing else'] };
    const w = await world(router, [{ text: decision({ agent: other, complexity: 'complex', reason: `${other} is best at writing files`, profile }) }]);
    const { routing } = await routeAndRun(w);
    expect(routing).toMatchObject({ agent: other, model: LARGE[other], complexity: 'complex', by: 'router', reason: `${other} is best at writing files`, profile });
    expect(routerRequests(w, router).length).toBeGreaterThan(0);
  });

  it('falls back to the round robin when the answer is invalid', async () => {
    const w = await world(router, [{ text: `I would pick ${other}, I think.` }]);
    const { routing } = await routeAndRun(w);
    expect(routing).toMatchObject({ agent: 'claude', model: FAKE_MODEL, by: 'fallback' });
    expect(routing.reason).toBe(`the router failed (${router}: no JSON object in the router's answer (1 attempt)), so round robin: claude is furthest behind its share (tasks/weight: claude 0/w1, codex 0/w1)`);
  });

  it('falls back to the round robin when the router names an agent the project may not use', async () => {
    const w = await world(router, [{ text: decision({ agent: 'gemini', complexity: 'simple', reason: 'gemini is cheap' }) }]);
    const { routing } = await routeAndRun(w);
    expect(routing).toMatchObject({ agent: 'claude', by: 'fallback', reason: expect.stringContaining('the router chose gemini, which this project may not use (claude, codex)') });
  });

  it("falls back to the round robin when the router's CLI fails", async () => {
    const w = await world(router, [{ status: 500, errorMessage: 'internal error' }]);
    const { routing } = await routeAndRun(w);
    expect(routing).toMatchObject({ agent: 'claude', model: FAKE_MODEL, by: 'fallback', reason: expect.stringMatching(new RegExp(`^the router failed \\(${router}: its run failed: .+\\(1 attempt\\)\\), so round robin: claude`)) });
  });

  it('falls back to the round robin when the router hangs past its time limit', async () => {
    const w = await world(router, [{ text: 'thinking', hang: true }], { timeout_s: 3 });
    const started = Date.now();
    const { routing } = await routeAndRun(w);
    expect(routing).toMatchObject({ agent: 'claude', by: 'fallback', reason: expect.stringMatching(new RegExp(`^the router failed \\(${router}: its run timed out after 3s \\(1 attempt\\)\\)`)) });
    expect(Date.now() - started).toBeLessThan(50_000);
  });
});
