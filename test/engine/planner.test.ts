// The planner with a scripted command agent (a small Node program that answers by what the prompt
// asks): cycles that create tasks, a correction, a refusal and its revision, named failures, and the
// split of one task into sub-tasks its parent waits for.

import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openOrch, type Orch } from '../../src/engine/context.js';
import { runCycle } from '../../src/engine/cycle.js';
import { runPlanCycle } from '../../src/engine/planner.js';
import { runTask } from '../../src/engine/runner.js';
import { addTask } from '../../src/engine/tasks.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';

let scratch: { path: string; cleanup: () => void };
let orch: Orch;
let repo: string;

const env = { PATH: process.env.PATH };
const criteria = '\n\nAcceptance criteria:\n- the file exists';
const planTask = (title: string, file: string, extra: Record<string, unknown> = {}) => ({ title, body: `Create ${file}.${criteria}`, ...extra });

/**
 * The fake agent: answers a planner prompt with the plan the test put in `plans/<name>.json` (the
 * first of `when` rules whose text the prompt contains), and any task with a file it writes.
 */
const FAKE_AGENT = `#!/usr/bin/env node
const { readFileSync, writeFileSync, appendFileSync } = require('node:fs');
const prompt = readFileSync(0, 'utf8');
const rules = JSON.parse(readFileSync(process.env.FAKE_RULES, 'utf8'));
appendFileSync(process.env.FAKE_RULES + '.log', JSON.stringify(prompt) + '\\n');
const done = (summary) => console.log(['\`\`\`json', JSON.stringify({ status: 'done', summary, remaining: '', follow_ups: [] }), '\`\`\`'].join('\\n'));
for (const rule of rules) {
  if (!prompt.includes(rule.when)) continue;
  if (rule.text !== undefined) { console.log(rule.text); process.exit(0); }
  if (rule.plan) { console.log('I read the repository.'); console.log(['\`\`\`json', JSON.stringify(rule.plan), '\`\`\`'].join('\\n')); process.exit(0); }
  if (rule.write) { writeFileSync(rule.write, 'made = yes\\n'); done('wrote ' + rule.write); process.exit(0); }
  if (rule.review) { done('reviewed the whole'); process.exit(0); }
}
console.log('no rule for this prompt');
`;

let rulesPath: string;
const setRules = (rules: unknown[]) => writeFileSync(rulesPath, JSON.stringify(rules));
const prompts = () => (existsSync(`${rulesPath}.log`) ? readFileSync(`${rulesPath}.log`, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as string) : []);

beforeEach(async () => {
  scratch = tempDir('orch-planner-');
  repo = makeRepo(scratch.path, 'shop');
  mkdirSync(join(repo, 'src'));
  writeFileSync(join(repo, 'README.md'), '# Shop\n\nA tiny shop. Every src/*.txt is a key = value line.\n');
  writeFileSync(join(repo, 'src', 'config.txt'), 'currency = EUR\n');
  writeFileSync(join(repo, 'test.sh'), '#!/bin/sh\nfor f in src/*.txt; do grep -q " = " "$f" || { echo "FAIL: $f" >&2; exit 1; }; done\necho ok\n');
  chmodSync(join(repo, 'test.sh'), 0o755);
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', 'shop']);
  const bin = join(scratch.path, 'fake-agent.cjs');
  writeFileSync(bin, FAKE_AGENT);
  chmodSync(bin, 0o755);
  rulesPath = join(scratch.path, 'rules.json');
  setRules([]);
  const home = join(scratch.path, 'home');
  mkdirSync(home);
  writeFileSync(
    join(home, 'config.yaml'),
    JSON.stringify({
      agents: { fake: { kind: 'command', command: bin, env: [`FAKE_RULES=${rulesPath}`] } },
      // The fake agent tells the test what it was asked through files beside the repository, which a
      // sandboxed run may not write: the sandbox itself is tested in test/e2e/sandbox-escape.e2e.test.ts.
      projects: { shop: { path: repo, sandbox: 'off', agents: ['fake'], max_attempts: 2, max_agents: 2, backoff: { base_s: 0.05, cap_s: 0.1, jitter: 0 }, judge: { test: ['./test.sh'] } } },
    }),
  );
  orch = await openOrch(home);
});
afterEach(async () => {
  await orch.close();
  scratch.cleanup();
});

describe('a planner cycle', () => {
  it('reads the repository and backlog, creates the accepted tasks with their dependencies, and writes plan.md', async () => {
    const open = await addTask(orch.store, { project: 'shop', title: 'Add shipping costs' }, orch.now());
    setRules([
      {
        when: '# Plan the next tasks for project shop',
        plan: {
          findings: 'A shop with a config file.',
          tasks: [planTask('Add a tax rate', 'src/tax.txt', { priority: 1, labels: ['money'] }), planTask('Test the tax rate', 'test/tax.sh', { role: 'test', depends_on: [0] })],
          deferred: [{ title: 'Multi-currency', reason: 'needs a decision on rates' }],
          risks: ['The test script only checks the format.'],
        },
      },
    ]);
    const result = await runPlanCycle(orch, 'shop', { sourceEnv: env });
    expect(result.failure).toBeNull();
    expect(result.cycle).toMatch(/^plan-\d+$/);
    expect(result.created.map((t) => [t.title, t.role, t.priority, t.labels, t.state])).toEqual([
      ['Add a tax rate', 'implement', 1, ['money'], 'new'],
      ['Test the tax rate', 'test', 0, [], 'blocked'],
    ]);
    expect(result.created[1]!.dependsOn).toEqual([result.created[0]!.id]);

    const [prompt] = prompts();
    expect(prompt).toContain('# Plan the next tasks for project shop');
    expect(prompt).toContain('README.md\nsrc/config.txt\ntest.sh');
    expect(prompt).toContain('A tiny shop.');
    expect(prompt).toContain(`#${open.id} [new, implement] Add shipping costs`);
    expect(prompt).toContain('# Your role: planner');

    const dir = join(orch.home, 'runs', result.cycle);
    expect(result.planPath).toBe(join(dir, 'plan.md'));
    const plan = readFileSync(result.planPath, 'utf8');
    expect(plan).toContain('# Plan for shop');
    expect(plan).toContain('## What was found\n\nA shop with a config file.');
    expect(plan).toContain(`### 1. Test the tax rate (#${result.created[1]!.id})\n\n_test · priority 0 · after #${result.created[0]!.id}_`);
    expect(plan).toContain('## Deferred\n\n- Multi-currency: needs a decision on rates');
    expect(plan).toContain('## Risks\n\n- The test script only checks the format.');
    expect(readdirSync(dir)).toEqual(expect.arrayContaining(['plan.md', 'prompt.md', 'agent.jsonl']));
    // The scratch checkout is gone; the user's repository is untouched.
    expect(readdirSync(join(orch.home, 'projects', 'shop', 'scratch'))).toEqual([]);
    expect(git(repo, ['status', '--porcelain'])).toBe('');
    const events = (await orch.store.listEvents({ project: 'shop' })).map((e) => e.type);
    expect(events).toEqual(expect.arrayContaining(['plan.started', 'plan.finished']));
  });

  it("uses the repository's own role templates, for the planner and for the tasks it writes", async () => {
    mkdirSync(join(repo, '.orch', 'prompts'), { recursive: true });
    writeFileSync(join(repo, '.orch', 'prompts', 'planner.md'), '# Our planner\nOne file per task.\n');
    writeFileSync(join(repo, '.orch', 'prompts', 'implementer.md'), '# Our implementer\nKeep key = value lines.\n');
    git(repo, ['add', '-A']);
    git(repo, ['commit', '-q', '-m', 'our templates']);
    setRules([
      { when: '# Plan the next tasks', plan: { tasks: [planTask('Add a tax rate', 'src/tax.txt')] } },
      { when: 'Add a tax rate', write: 'src/tax.txt' },
    ]);
    const result = await runPlanCycle(orch, 'shop', { sourceEnv: env });
    expect(prompts()[0]).toContain('<orch-instructions>\n# Our planner\nOne file per task.\n\nOrch reads only the last fenced JSON block');
    const summary = await runTask(orch, result.created[0]!.id, { sourceEnv: env });
    expect(summary.task.state).toBe('done');
    const prompt = readFileSync(join(orch.home, 'runs', String(summary.runId), 'prompt.md'), 'utf8');
    expect(prompt).toContain('---\n\n# Our implementer\nKeep key = value lines.\n\nYou are working on task #1 as its implementer');
  });

  it('gives an unusable answer one correction with the validation error', async () => {
    setRules([
      { when: 'Orch could not use your plan: tasks.0.body: the body has no acceptance criteria', plan: { tasks: [planTask('Add a tax rate', 'src/tax.txt')] } },
      { when: '# Plan the next tasks', plan: { tasks: [{ title: 'Add a tax rate', body: 'Just do it.' }] } },
    ]);
    const result = await runPlanCycle(orch, 'shop', { sourceEnv: env });
    expect(result.failure).toBeNull();
    expect(result.created.map((t) => t.title)).toEqual(['Add a tax rate']);
    const asked = prompts();
    expect(asked).toHaveLength(2);
    // The command agent cannot continue its session: the follow-up carries the first prompt and its answer.
    expect(asked[1]).toContain('# Plan the next tasks for project shop');
    expect(asked[1]).toContain('## Your previous answer');
    expect(readdirSync(join(orch.home, 'runs', result.cycle))).toContain('follow-up-1.md');
  });

  it('fails by name after a second unusable answer, and creates nothing', async () => {
    setRules([{ when: '# Plan the next tasks', text: 'I would add a tax rate.' }]);
    const result = await runPlanCycle(orch, 'shop', { sourceEnv: env });
    expect(result.failure).toEqual({ kind: 'invalid_plan', message: 'no usable plan after a correction: no fenced ```json block with a "tasks" list at the end of the answer' });
    expect(result.created).toEqual([]);
    expect(prompts()).toHaveLength(2);
    expect(await orch.store.listTasks({ project: 'shop' })).toEqual([]);
    expect(readFileSync(result.planPath, 'utf8')).toContain('## Failed\n\ninvalid_plan: no usable plan after a correction');
    expect((await orch.store.listEvents({ project: 'shop' })).map((e) => e.type)).toContain('plan.failed');
  });

  it('refuses a failed task proposed again unchanged, and takes the split version', async () => {
    const failed = await addTask(orch.store, { project: 'shop', title: 'Add a currency converter', body: `Convert prices between EUR and USD in src/convert.txt.${criteria}` }, orch.now());
    setRules([{ when: '# Task #', text: 'I could not do it.' }]);
    await runTask(orch, failed.id, { sourceEnv: env });
    await new Promise((r) => setTimeout(r, 120));
    const second = await runTask(orch, failed.id, { sourceEnv: env });
    expect(second.task.state).toBe('needs_review');

    setRules([
      {
        when: 'Orch refused these proposed tasks',
        plan: { tasks: [planTask('Add an exchange rate table', 'src/rates.txt'), planTask('Convert prices with the rate table', 'src/convert.txt', { depends_on: [0] })] },
      },
      { when: '# Plan the next tasks', plan: { tasks: [{ title: failed.title, body: failed.body }] } },
    ]);
    const result = await runPlanCycle(orch, 'shop', { sourceEnv: env });
    expect(result.failure).toBeNull();
    expect(result.refused).toEqual([{ round: 1, index: 0, title: 'Add a currency converter', reason: `repeats failed task #${failed.id} unchanged: split it into smaller tasks or put a prerequisite task first`, repeats: failed.id }]);
    expect(result.created.map((t) => t.title)).toEqual(['Add an exchange rate table', 'Convert prices with the rate table']);
    const planPrompt = prompts().find((p) => p.includes('# Plan the next tasks'))!;
    // The planner was told what failed and why.
    expect(planPrompt).toContain(`#${failed.id} [needs_review, implement] Add a currency converter`);
    expect(planPrompt).toContain('Attempt 1 ended');
    const plan = readFileSync(result.planPath, 'utf8');
    expect(plan).toContain(`## Refused\n\n- round 1, task 0 "Add a currency converter": repeats failed task #${failed.id} unchanged`);
    expect(plan).toContain('### 0. Add an exchange rate table (#');
  });
});

describe('the plan label', () => {
  it('splits one task into sub-tasks its parent waits for; then the parent is reviewed as a whole', async () => {
    const parent = await addTask(orch.store, { project: 'shop', title: 'Build the checkout', body: `Cart and receipt.${criteria}`, labels: ['plan', 'web'] }, orch.now());
    setRules([
      { when: `# Split task #${parent.id}`, plan: { findings: 'Two parts.', tasks: [planTask('Add the cart', 'src/cart.txt'), planTask('Print a receipt', 'src/receipt.txt', { depends_on: [0] })] } },
      { when: 'Add the cart', write: 'src/cart.txt' },
      { when: 'Print a receipt', write: 'src/receipt.txt' },
      { when: 'Build the checkout', review: true },
    ]);
    const split = await runTask(orch, parent.id, { sourceEnv: env });
    expect(split.note).toMatch(/^split into #\d+, #\d+$/);
    const children = (await orch.store.listTasks({ project: 'shop' })).filter((t) => t.parentId === parent.id);
    expect(children.map((c) => [c.title, c.state])).toEqual([
      ['Add the cart', 'new'],
      ['Print a receipt', 'blocked'],
    ]);
    expect(children[1]!.dependsOn).toEqual([children[0]!.id]);
    const waiting = (await orch.store.getTask(parent.id))!;
    expect(waiting).toMatchObject({ state: 'blocked', blockKind: 'children', role: 'review', labels: ['web'], agent: null });
    expect(waiting.blockedReason).toBe(`waits on #${children[0]!.id}, #${children[1]!.id}`);
    const runDir = join(orch.home, 'runs', String(split.runId));
    expect(readFileSync(join(runDir, 'plan.md'), 'utf8')).toContain(`# Split of task #${parent.id}: Build the checkout`);
    expect((await orch.store.getRun(split.runId))!.result).toMatchObject({ reason: split.note, split: children.map((c) => c.id) });
    expect(prompts()[0]).toContain('Title: Build the checkout');
    // A tracker mirroring the issue puts the split label back while the parent waits: it is not split twice.
    await orch.store.updateTask(parent.id, { expectedVersion: waiting.version }, { labels: ['web', 'plan'] }, orch.now(), { type: 'task.synced', data: { fields: ['labels'] } });

    await runCycle(orch, { once: true, pollMs: 50, sourceEnv: env });
    const after = await orch.store.listTasks({ project: 'shop' });
    expect(after.map((t) => [t.title, t.state])).toEqual([
      ['Build the checkout', 'done'],
      ['Add the cart', 'done'],
      ['Print a receipt', 'done'],
    ]);
    expect(readFileSync(join(repo, 'src', 'receipt.txt'), 'utf8')).toBe('made = yes\n');
    // The parent ran last, as a review, once its sub-tasks were done.
    const review = prompts().find((p) => p.includes(`# Task #${parent.id}: Build the checkout`))!;
    expect(review).toContain('as its reviewer');
  });

  it('fails the attempt when every sub-task is refused, so it is retried or goes to a person', async () => {
    const parent = await addTask(orch.store, { project: 'shop', title: 'Build the checkout', body: `Cart and receipt.${criteria}`, role: 'plan' }, orch.now());
    setRules([{ when: '# Split task', plan: { tasks: [{ title: parent.title, body: parent.body }] } }]);
    const first = await runTask(orch, parent.id, { sourceEnv: env });
    expect(first.note).toBe('nothing_accepted: every sub-task the planner proposed was refused');
    expect(first.task).toMatchObject({ state: 'routed', role: 'plan' });
    expect(prompts()).toHaveLength(2);
    expect(prompts()[1]).toContain('Orch refused these proposed tasks');
    expect((await orch.store.listTasks({ project: 'shop' })).length).toBe(1);
  });
});
