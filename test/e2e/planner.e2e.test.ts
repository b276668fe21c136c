// The planner with the real Claude Code CLI against the fake model server, on a sample repository with
// a real test suite: a cycle whose tasks then run to done, a failed task that comes back split (the
// unchanged repeat refused first), and a task with the `plan` label split into sub-tasks its parent
// waits for. The fake model picks its script by what each request says.

import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openOrch, type Orch } from '../../src/engine/context.js';
import { runCycle } from '../../src/engine/cycle.js';
import { runPlanCycle } from '../../src/engine/planner.js';
import { addTask } from '../../src/engine/tasks.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';
import { cliAvailable, cliPath, missingCliMessage } from '../rig/agent-clis.js';
import type { Script } from '../rig/fake-model/script.js';
import { startFakeModelServer, type FakeModelServer } from '../rig/fake-model/server.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const usage = { usage: { input: 1000, output: 100 } };
const done = (summary: string) => ['Finished.', '```json', JSON.stringify({ status: 'done', summary, remaining: '', follow_ups: [] }), '```'].join('\n');
const planText = (plan: unknown) => ['I read the repository.', '', '```json', JSON.stringify(plan, null, 2), '```'].join('\n');
const criteria = (check: string) => `\n\nAcceptance criteria:\n- ${check}\n- sh test/run.sh passes`;
/** An implementer that writes one file and says it is done. */
const writes = (path: string, content: string): Script => [
  { text: `Writing ${path}.`, tools: [{ tool: 'write_file', path, content }], ...usage },
  { text: done(`wrote ${path}`), ...usage },
];

interface World {
  orch: Orch;
  repo: string;
  server: FakeModelServer;
}

/**
 * A shop library whose test suite wants every src/*.txt to be a `key = value` line and no BROKEN
 * anywhere, with a README and a CLAUDE.md; claude talks to a fake model that answers by `scriptFor`.
 */
async function world(scriptFor: (all: string) => Script | undefined, project: Record<string, unknown> = {}): Promise<World> {
  expect(cliAvailable('claude'), missingCliMessage('claude')).toBe(true);
  const scratch = tempDir('orch-planner-e2e-');
  cleanups.push(scratch.cleanup);
  const repo = makeRepo(scratch.path, 'shop');
  mkdirSync(join(repo, 'src'));
  mkdirSync(join(repo, 'test'));
  writeFileSync(join(repo, 'README.md'), '# Shop\n\nPrices and settings as key = value lines in src/*.txt.\n');
  writeFileSync(join(repo, 'CLAUDE.md'), 'Keep every src/*.txt a single key = value line. Run sh test/run.sh.\n');
  writeFileSync(join(repo, 'src', 'config.txt'), 'currency = EUR\n');
  writeFileSync(
    join(repo, 'test', 'run.sh'),
    ['#!/bin/sh', 'if grep -rq BROKEN src; then echo "FAIL: src contains BROKEN" >&2; exit 1; fi', 'for f in src/*.txt; do grep -q " = " "$f" || { echo "FAIL: $f has no key = value line" >&2; exit 1; }; done', 'echo "all tests pass"', ''].join('\n'),
  );
  chmodSync(join(repo, 'test', 'run.sh'), 0o755);
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', 'shop with tests']);

  const server = await startFakeModelServer({ scriptFor: (texts) => scriptFor(texts.join('\n')) });
  cleanups.push(() => server.close());
  const home = join(scratch.path, 'home');
  mkdirSync(home);
  writeFileSync(
    join(home, 'config.yaml'),
    JSON.stringify({
      scheduler: { max_agents: 2, tick_interval_s: 1 },
      prices: { 'fake-model': { input: 5, output: 25 } },
      agents: {
        claude: { command: cliPath('claude'), model: 'fake-model', env: [`ANTHROPIC_BASE_URL=${server.url}`, 'ANTHROPIC_API_KEY=fake-key', 'CLAUDE_CODE_MAX_RETRIES=0', 'DISABLE_AUTOUPDATER=1'] },
      },
      projects: {
        shop: { path: repo, default_branch: 'main', max_agents: 2, max_attempts: 2, backoff: { base_s: 0.2, cap_s: 1, jitter: 0 }, judge: { test: ['sh', 'test/run.sh'], timeout_s: 60 }, ...project },
      },
    }),
  );
  const orch = await openOrch(home);
  cleanups.push(() => orch.close());
  return { orch, repo, server };
}

const sourceEnv = { PATH: process.env.PATH };
const drain = (orch: Orch) => runCycle(orch, { once: true, pollMs: 100, sourceEnv });
const taskScript = (all: string, scripts: Record<number, Script>) => {
  const id = /# Task #(\d+):/.exec(all)?.[1];
  return id ? scripts[Number(id)] : undefined;
};

describe('the planner, real claude against the fake model', () => {
  it('plans a cycle into a valid plan.md and tasks that then run to done', async () => {
    const plan = {
      findings: 'A shop library with a format test; it has a currency but no tax or shipping settings.',
      tasks: [
        { title: 'Add a tax rate setting', body: `Add src/tax.txt holding the tax rate.${criteria('src/tax.txt reads tax = 20')}`, priority: 1 },
        { title: 'Add a shipping cost setting', body: `Add src/shipping.txt after the tax rate.${criteria('src/shipping.txt reads shipping = 5')}`, depends_on: [0], labels: ['settings'] },
      ],
      deferred: [{ title: 'Multi-currency prices', reason: 'needs exchange rates nobody has chosen yet' }],
      risks: ['The test suite checks only the format of the settings.'],
    };
    const planner: Script = [{ text: planText(plan), ...usage }];
    const { orch, repo, server } = await world((all) =>
      all.includes('# Plan the next tasks for project shop') ? planner : taskScript(all, { 1: writes('src/tax.txt', 'tax = 20\n'), 2: writes('src/shipping.txt', 'shipping = 5\n') }),
    );

    const result = await runPlanCycle(orch, 'shop', { sourceEnv });
    expect(result.failure).toBeNull();
    expect(result.created.map((t) => [t.id, t.title, t.role, t.state])).toEqual([
      [1, 'Add a tax rate setting', 'implement', 'new'],
      [2, 'Add a shipping cost setting', 'implement', 'blocked'],
    ]);
    expect(result.costUsd).toBeGreaterThan(0);

    // The planner read the repository through Orch's input, with its role and contract as instructions.
    const planning = server.requests.find((r) => r.kind === 'turn' && JSON.stringify(r.body).includes('# Plan the next tasks for project shop'))!;
    const body = JSON.stringify(planning.body);
    expect(body).toContain('CLAUDE.md');
    expect(body).toContain('Keep every src/*.txt a single key = value line.');
    expect(body).toContain('# Your role: planner');
    expect(body).toContain('test/run.sh');

    const text = readFileSync(result.planPath, 'utf8');
    expect(text).toContain('# Plan for shop');
    expect(text).toContain('- planner: claude (fake-model)');
    expect(text).toContain('## What was found\n\nA shop library with a format test');
    expect(text).toContain('### 0. Add a tax rate setting (#1)');
    expect(text).toContain('### 1. Add a shipping cost setting (#2)\n\n_implement · priority 0 · after #1 · labels settings_');
    expect(text).toContain('## Refused\n\nNothing.');
    expect(text).toContain('## Deferred\n\n- Multi-currency prices: needs exchange rates nobody has chosen yet');
    expect(text).toContain('## Risks\n\n- The test suite checks only the format of the settings.');
    // What the agent answered is the plan Orch recorded.
    const answer = readFileSync(join(orch.home, 'runs', result.cycle, 'agent.jsonl'), 'utf8');
    expect(answer).toContain('Add a tax rate setting');

    await drain(orch);
    for (const id of [1, 2]) expect((await orch.store.getTask(id))!.state).toBe('done');
    expect(git(repo, ['show', 'main:src/tax.txt'])).toBe('tax = 20');
    expect(git(repo, ['show', 'main:src/shipping.txt'])).toBe('shipping = 5');
  });

  it('refuses a failed task proposed again unchanged, and accepts it split', async () => {
    const failedBody = `Add src/convert.txt converting EUR prices to USD.${criteria('src/convert.txt holds the conversion')}`;
    const repeat: Script = [{ text: planText({ tasks: [{ title: 'Add a currency converter', body: failedBody }] }), ...usage }];
    const splitPlan = {
      findings: 'The converter failed because it wrote no key = value line: it needs a rate first.',
      tasks: [
        { title: 'Add the EUR to USD exchange rate', body: `Add src/rate.txt.${criteria('src/rate.txt reads usd_per_eur = 1.1')}` },
        { title: 'Convert prices with the exchange rate', body: `Add src/convert.txt using src/rate.txt.${criteria('src/convert.txt reads convert = price * usd_per_eur')}`, depends_on: [0] },
      ],
    };
    // Resumed, the revision is the session's second turn; started afresh, its first: the same answer either way.
    const split: Script = [{ text: planText(splitPlan), ...usage }, { text: planText(splitPlan), ...usage }];
    const { orch, repo, server } = await world(
      (all) => {
        if (all.includes('Orch refused these proposed tasks')) return split;
        if (all.includes('# Plan the next tasks for project shop')) return repeat;
        return taskScript(all, { 1: writes('src/convert.txt', 'BROKEN\n'), 2: writes('src/rate.txt', 'usd_per_eur = 1.1\n'), 3: writes('src/convert.txt', 'convert = price * usd_per_eur\n') });
      },
      { max_attempts: 1 },
    );

    const failed = await addTask(orch.store, { project: 'shop', title: 'Add a currency converter', body: failedBody }, orch.now());
    await drain(orch);
    expect((await orch.store.getTask(failed.id))!.state).toBe('needs_review');

    const result = await runPlanCycle(orch, 'shop', { sourceEnv });
    expect(result.failure).toBeNull();
    expect(result.refused).toEqual([{ round: 1, index: 0, title: 'Add a currency converter', reason: `repeats failed task #${failed.id} unchanged: split it into smaller tasks or put a prerequisite task first`, repeats: failed.id }]);
    expect(result.created.map((t) => [t.id, t.title])).toEqual([
      [2, 'Add the EUR to USD exchange rate'],
      [3, 'Convert prices with the exchange rate'],
    ]);
    expect(result.created[1]!.dependsOn).toEqual([2]);

    // The planner was told why the task failed, from the memory of its attempt.
    const planning = server.requests.find((r) => r.kind === 'turn' && JSON.stringify(r.body).includes('# Plan the next tasks for project shop'))!;
    expect(JSON.stringify(planning.body)).toContain('FAIL: src contains BROKEN');
    // Claude continued its session for the revision rather than starting over.
    const revision = server.requests.find((r) => r.kind === 'turn' && JSON.stringify(r.body).includes('Orch refused these proposed tasks'))!;
    expect(revision.turn).toBe(1);

    const text = readFileSync(result.planPath, 'utf8');
    expect(text).toContain(`## Refused\n\n- round 1, task 0 "Add a currency converter": repeats failed task #${failed.id} unchanged`);
    expect(text).toContain('### 0. Add the EUR to USD exchange rate (#2)');
    expect(text).toContain('### 1. Convert prices with the exchange rate (#3)');

    await drain(orch);
    for (const id of [2, 3]) expect((await orch.store.getTask(id))!.state).toBe('done');
    expect(git(repo, ['show', 'main:src/convert.txt'])).toBe('convert = price * usd_per_eur');
  });

  it('splits a task with the plan label into sub-tasks; the parent waits for them, then is reviewed', async () => {
    const splitPlan = {
      findings: 'The checkout needs a cart and a receipt.',
      tasks: [
        { title: 'Add the cart setting', body: `Add src/cart.txt.${criteria('src/cart.txt reads cart = empty')}` },
        { title: 'Add the receipt setting', body: `Add src/receipt.txt.${criteria('src/receipt.txt reads receipt = printed')}`, depends_on: [0] },
      ],
    };
    const order: string[] = [];
    const { orch, repo } = await world((all) => {
      if (all.includes('# Split task #1 of project shop')) return [{ text: planText(splitPlan), ...usage }];
      const id = /# Task #(\d+):/.exec(all)?.[1];
      if (id && !order.includes(id)) order.push(id);
      return taskScript(all, { 1: [{ text: done('the cart and the receipt are both in place'), ...usage }], 2: writes('src/cart.txt', 'cart = empty\n'), 3: writes('src/receipt.txt', 'receipt = printed\n') });
    });

    const parent = await addTask(orch.store, { project: 'shop', title: 'Build the checkout', body: `A cart and a receipt.${criteria('both settings exist')}`, labels: ['plan'] }, orch.now());
    await drain(orch);

    const tasks = await orch.store.listTasks({ project: 'shop' });
    expect(tasks.map((t) => [t.id, t.title, t.parentId, t.role, t.state])).toEqual([
      [1, 'Build the checkout', null, 'review', 'done'],
      [2, 'Add the cart setting', 1, 'implement', 'done'],
      [3, 'Add the receipt setting', 1, 'implement', 'done'],
    ]);
    // The parent ran only once its sub-tasks were done.
    expect(order).toEqual(['2', '3', '1']);
    const runs = await orch.store.listRuns({ taskId: parent.id });
    expect(runs.map((r) => (r.result as { reason?: string }).reason)).toEqual(['split into #2, #3', expect.any(String)]);
    expect(readFileSync(join(orch.home, 'runs', String(runs[0]!.id), 'plan.md'), 'utf8')).toContain('# Split of task #1: Build the checkout');
    const reviewPrompt = readFileSync(join(orch.home, 'runs', String(runs[1]!.id), 'prompt.md'), 'utf8');
    expect(reviewPrompt).toContain('# Your role: reviewer');
    expect(reviewPrompt).toContain('as its reviewer');
    expect((await orch.store.listEvents({ taskId: parent.id })).map((e) => e.type)).toEqual(expect.arrayContaining(['task.block', 'task.unblock', 'task.finish']));
    expect(git(repo, ['show', 'main:src/receipt.txt'])).toBe('receipt = printed');
  });
});
