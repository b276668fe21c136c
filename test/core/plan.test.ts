import { describe, expect, it } from 'vitest';
import { renderPlanMarkdown } from '../../src/core/plan-markdown.js';
import { buildPlannerPrompt, correctionPrompt, fileTree, keyFilesOf, revisionPrompt, type PlannerInput } from '../../src/core/plan-prompt.js';
import { afterSplit, checkRepeats, isSameTask, MAX_PLANNED_TASKS, parsePlanAnswer, similarity, standingOf, wantsSplit, type PlannedTask, type PriorTask } from '../../src/core/plan.js';

const body = (text: string) => `${text}\n\nAcceptance criteria:\n- it works`;
const task = (title: string, extra: Record<string, unknown> = {}) => ({ title, body: body(`Do ${title}.`), ...extra });
const answer = (plan: unknown, before = 'I read the code.') => `${before}\n\n\`\`\`json\n${JSON.stringify(plan, null, 2)}\n\`\`\`\n`;
const planned = (title: string, extra: Partial<PlannedTask> = {}): PlannedTask => ({ title, body: body(`Do ${title}.`), role: 'implement', priority: 0, dependsOn: [], labels: [], ...extra });

describe('parsePlanAnswer', () => {
  it('reads the last fenced block with a task list, filling defaults', () => {
    const text = answer({ findings: 'A small shop.', tasks: [task('Add a tax rate'), task('Test the tax rate', { role: 'test', priority: 1, depends_on: [0, 0], labels: ['shop'] })], deferred: ['Rewrite in Rust', { title: 'Add VAT', reason: 'unclear rules' }], risks: [' none ', ''] });
    const parsed = parsePlanAnswer(`\`\`\`json\n{"tasks": "an example"}\n\`\`\`\n${text}`);
    expect(parsed).toEqual({
      ok: true,
      plan: {
        findings: 'A small shop.',
        tasks: [planned('Add a tax rate'), planned('Test the tax rate', { role: 'test', priority: 1, dependsOn: [0], labels: ['shop'] })],
        deferred: [{ title: 'Rewrite in Rust', reason: '' }, { title: 'Add VAT', reason: 'unclear rules' }],
        risks: ['none'],
      },
    });
  });

  it('tolerates comments, trailing commas, an unlabelled fence and an empty plan', () => {
    const parsed = parsePlanAnswer('Nothing to do.\n```\n{\n  // all done\n  "tasks": [],\n}\n```');
    expect(parsed).toEqual({ ok: true, plan: { findings: '', tasks: [], deferred: [], risks: [] } });
  });

  it('says what is wrong, in a line the planner can act on', () => {
    const error = (text: string | null) => {
      const parsed = parsePlanAnswer(text);
      expect(parsed.ok).toBe(false);
      return parsed.ok ? '' : parsed.error;
    };
    expect(error(null)).toMatch(/the answer is empty/);
    expect(error('I think we should add a tax rate.')).toBe('no fenced ```json block with a "tasks" list at the end of the answer');
    expect(error('```json\n{"tasks": [1,\n```')).toMatch(/no fenced/);
    expect(error(answer({ tasks: [{ title: 'Add a tax rate', body: 'Just do it.' }] }))).toBe('tasks.0.body: the body has no acceptance criteria (a section "Acceptance criteria" listing what a reviewer checks)');
    expect(error(answer({ tasks: [task('Two\nlines')] }))).toBe('tasks.0.title: the title must be one line');
    expect(error(answer({ tasks: [task('Odd\0title', { body: body('x') })] }))).toBe('tasks.0.title: the title must not contain a NUL character');
    expect(error(answer({ tasks: [task('A', { body: body('paste\0') })] }))).toBe('tasks.0.body: the body must not contain a NUL character');
    expect(error(answer({ tasks: [task('A', { role: 'boss' })] }))).toMatch(/^tasks\.0\.role: the role must be one of implement, test, review, plan, fix$/);
    expect(error(answer({ tasks: [task('A'), task('B', { depends_on: [1] })] }))).toBe('tasks.1.depends_on: task 1 may only depend on tasks listed before it (indexes 0 to 0), not 1');
    expect(error(answer({ tasks: [task('Add a tax rate'), task('add a TAX rate!')] }))).toBe('tasks.1.title: the same title as task 0');
    expect(error(answer({ tasks: Array.from({ length: MAX_PLANNED_TASKS + 1 }, (_, i) => task(`Task ${i}`)) }))).toBe(`tasks: at most ${MAX_PLANNED_TASKS} tasks per plan`);
    expect(error(answer({ tasks: [task('A', { priority: 1.5 })] }))).toMatch(/^tasks\.0\.priority: the priority must be a whole number/);
    expect(error(answer({ tasks: [{ title: 'A' }, { body: body('x') }] }))).toMatch(/^tasks\.0\.body: .*; tasks\.1\.title: /);
  });
});

describe('the repeat check', () => {
  const failed: PriorTask = { id: 5, title: 'Add a currency converter', body: body('Convert prices between EUR and USD in src/convert.txt.'), kind: 'failed' };

  it('refuses a failed task proposed again unchanged, reworded or not', () => {
    const same = planned('Add a currency converter', { body: failed.body });
    const reworded = planned('Add the currency converter', { body: body('Convert prices between EUR and USD, in src/convert.txt.') });
    expect(checkRepeats([same, reworded], [failed])).toEqual({
      accepted: [],
      standIns: new Map(),
      refused: [
        { index: 0, title: same.title, reason: 'repeats failed task #5 unchanged: split it into smaller tasks or put a prerequisite task first', repeats: 5 },
        { index: 1, title: reworded.title, reason: 'repeats failed task #5 unchanged: split it into smaller tasks or put a prerequisite task first', repeats: 5 },
      ],
    });
  });

  it('accepts it split, or after a prerequisite from the same plan', () => {
    const split = [planned('Add an exchange rate table', { body: body('Rates in src/rates.txt.') }), planned('Convert prices with the rate table', { body: body('Use src/rates.txt.'), dependsOn: [0] })];
    expect(checkRepeats(split, [failed])).toEqual({ accepted: [0, 1], refused: [], standIns: new Map() });
    const withPrerequisite = [planned('Add an exchange rate table'), planned('Add a currency converter', { body: failed.body, dependsOn: [0] })];
    expect(checkRepeats(withPrerequisite, [failed])).toEqual({ accepted: [0, 1], refused: [], standIns: new Map() });
  });

  it('refuses what is already open, which then stands in for it, and whatever depends on a refused repeat', () => {
    const open: PriorTask = { id: 9, title: 'Add a tax rate', body: '', kind: 'open' };
    const result = checkRepeats([planned('Add exchange rates'), planned('Add a tax rate', { dependsOn: [0] }), planned('Document the tax rate', { dependsOn: [1] }), planned('Add a currency converter', { body: failed.body }), planned('Document the converter', { dependsOn: [3] })], [open, failed]);
    expect(result.accepted).toEqual([0, 2]);
    expect(result.standIns).toEqual(new Map([[1, 9]]));
    expect(result.refused.map((r) => [r.index, r.reason])).toEqual([
      [1, 'already open as #9'],
      [3, 'repeats failed task #5 unchanged: split it into smaller tasks or put a prerequisite task first'],
      [4, 'depends on task 3 of the plan, which was refused'],
    ]);
  });

  it('refuses the task being split, alone and unchanged, as its own sub-task', () => {
    const target: PriorTask = { id: 3, title: 'Build the checkout', body: body('Cart, payment and receipt.'), kind: 'splitting' };
    expect(checkRepeats([planned('Build the checkout', { body: target.body })], [target]).refused[0]!.reason).toBe('repeats task #3 (the one being split) unchanged: split it into smaller tasks or put a prerequisite task first');
    expect(checkRepeats([planned('Add the cart'), planned('Add payment'), planned('Print a receipt')], [target]).accepted).toEqual([0, 1, 2]);
  });

  it('compares normalised words, so case, accents and punctuation do not matter', () => {
    expect(similarity('Add a Café-menu!', 'add cafe menu')).toBe(1);
    expect(similarity('', '')).toBe(1);
    expect(similarity('add tax', 'remove shipping')).toBe(0);
    // A title-only task is the same task whatever body the proposal brings.
    expect(isSameTask(planned('Fix the login page', { body: body('A long new explanation of the fix.') }), { title: 'Fix the login page', body: '' })).toBe(true);
    expect(isSameTask(planned('Fix the login page', { body: body('Something entirely different about sessions and cookies.') }), { title: 'Fix the login page', body: body('Password field validation is wrong in src/login.ts.') })).toBe(false);
  });
});

describe('splitting a task', () => {
  it('is asked by the plan role or label, and leaves a review of the whole behind', () => {
    expect(wantsSplit({ role: 'plan', labels: [] })).toBe(true);
    expect(wantsSplit({ role: 'implement', labels: ['web', 'plan'] })).toBe(true);
    expect(wantsSplit({ role: 'implement', labels: ['planning'] })).toBe(false);
    expect(afterSplit({ labels: ['web', 'plan'] })).toEqual({ role: 'review', labels: ['web'] });
  });

  it('is never asked again of a task that has sub-tasks, though a tracker put the label back', () => {
    expect(wantsSplit({ role: 'review', labels: ['web', 'plan'] }, 3)).toBe(false);
    expect(wantsSplit({ role: 'plan', labels: [] }, 1)).toBe(false);
    expect(wantsSplit({ role: 'review', labels: ['plan'] }, 0)).toBe(true);
  });
});

describe('the planner prompt', () => {
  const input: PlannerInput = {
    project: 'shop',
    defaultBranch: 'main',
    files: ['README.md', 'src/config.txt', 'test/run.sh'],
    keyFiles: [{ path: 'README.md', text: '# Shop\n```sh\nnpm test\n```\n' }],
    openTasks: [{ id: 2, title: 'Add shipping', state: 'new', role: 'implement', note: null }],
    outcomes: [{ id: 1, title: 'Add a converter', state: 'needs_review', role: 'implement', note: 'attempts exhausted', memory: ['Attempt 1 ended succeeded: exited 0 — what went wrong: tests failed'] }],
    split: null,
  };

  it('holds the repository and backlog as data, the template and contract as instructions', () => {
    const prompt = buildPlannerPrompt(input, '# Your role: planner');
    expect(prompt.prompt).toMatch(/^# Plan the next tasks for project shop\n/);
    expect(prompt.prompt).toContain('```text\nREADME.md\nsrc/config.txt\ntest/run.sh\n```');
    // A fence inside a key file cannot close the block that holds it.
    expect(prompt.prompt).toContain('### README.md\n\n````\n# Shop\n```sh\nnpm test\n```\n````');
    expect(prompt.prompt).toContain('- #2 [new, implement] Add shipping');
    expect(prompt.prompt).toContain('- #1 [needs_review, implement] Add a converter — attempts exhausted\n  - Attempt 1 ended succeeded');
    expect(prompt.prompt).toContain('must come back split or with a prerequisite first');
    expect(prompt.systemPromptAppend).toMatch(/^# Your role: planner\n\nOrch reads only the last fenced JSON block/);
    expect(prompt.systemPromptAppend).toContain('never come back unchanged');
    expect(prompt.systemPromptAppend).not.toContain('Add shipping');
  });

  it('asks for sub-tasks of one task when splitting', () => {
    const prompt = buildPlannerPrompt({ ...input, split: { id: 4, title: 'Build the checkout', body: 'Cart and payment.', labels: ['plan'], memory: [] } }, null).prompt;
    expect(prompt).toMatch(/^# Split task #4 of project shop into sub-tasks/);
    expect(prompt).toContain('Title: Build the checkout\n\nCart and payment.\n\nLabels: plan');
    expect(prompt).not.toMatch(/# Task #\d+:/);
  });

  it('bounds the file tree by folding directories', () => {
    const files = Array.from({ length: 1000 }, (_, i) => `src/mod${i % 10}/deep/file${i}.ts`).concat(['README.md']);
    const tree = fileTree(files, { maxEntries: 50, maxChars: 5000 });
    expect(tree.split('\n').length).toBeLessThanOrEqual(50);
    expect(tree).toContain('README.md');
    expect(tree).toContain('src/mod3/deep/ (100 files)');
    const long = fileTree(Array.from({ length: 40 }, (_, i) => `${'x'.repeat(100)}${i}`), { maxEntries: 100, maxChars: 1000 });
    expect(long.length).toBeLessThanOrEqual(1000);
    expect(long).toMatch(/… \(\d+ more entries\)$/);
    expect(keyFilesOf(['src/a.ts', 'package.json', 'AGENTS.md', 'README.md'])).toEqual(['README.md', 'AGENTS.md', 'package.json']);
  });

  it('follows up with the error or the refusals, and the previous answer when the session cannot continue', () => {
    expect(correctionPrompt('tasks.0.title: the title is empty', null)).toBe('Orch could not use your plan: tasks.0.title: the title is empty.\nAnswer again with the whole plan, corrected, ending with the fenced ```json block.');
    const revision = revisionPrompt([{ index: 0, title: 'Add a converter', reason: 'repeats failed task #1 unchanged', repeats: 1 }], '```json\n{"tasks": []}\n```');
    expect(revision).toMatch(/^## Your previous answer\n\n````\n```json/);
    expect(revision).toContain('- task 0 "Add a converter": repeats failed task #1 unchanged');
  });
});

describe('plan.md', () => {
  it('records what was found, created, refused, deferred and feared', () => {
    const plan = { findings: 'A shop.', tasks: [planned('Add rates'), planned('Convert prices', { dependsOn: [0], labels: ['money'] }), planned('Add a converter')], deferred: [{ title: 'VAT', reason: 'unclear' }], risks: ['Rounding.'] };
    const text = renderPlanMarkdown({
      heading: 'Plan for shop',
      about: ['Planner: claude'],
      plan,
      created: new Map([[0, { id: 7 }], [1, { id: 8 }]]),
      refused: [{ round: 1, index: 0, title: 'Add a converter', reason: 'repeats failed task #1 unchanged', repeats: 1 }, { round: 2, index: 2, title: 'Add a converter', reason: 'repeats failed task #1 unchanged', repeats: 1 }],
      round: 2,
      failure: null,
    });
    expect(text).toContain('# Plan for shop\n\nPlanner: claude\n\n## What was found\n\nA shop.');
    expect(text).toContain('### 0. Add rates (#7)');
    expect(text).toContain('### 1. Convert prices (#8)\n\n_implement · priority 0 · after #7 · labels money_');
    expect(text).toContain('### 2. Add a converter (refused)');
    expect(text).toContain('## Refused\n\n- round 1, task 0 "Add a converter": repeats failed task #1 unchanged\n- round 2, task 2');
    expect(text).toContain('## Deferred\n\n- VAT: unclear');
    expect(text).toContain('## Risks\n\n- Rounding.');
    const failed = renderPlanMarkdown({ heading: 'Plan for shop', about: [], plan: null, created: new Map(), refused: [], round: 2, failure: 'the planner gave no usable plan twice' });
    expect(failed).toContain('## Failed\n\nthe planner gave no usable plan twice');
    expect(failed).not.toContain('## Risks');
  });
});

describe('standingOf', () => {
  it('tells failed tasks from open, done and dropped ones', () => {
    const t = (state: string, blockKind: string | null = null, attempts = 1) => standingOf({ state: state as never, blockKind: blockKind as never, attempts });
    expect(t('needs_review')).toBe('failed');
    expect(t('blocked', 'agent')).toBe('failed');
    expect(t('blocked', 'dependencies')).toBe('open');
    expect(t('blocked', 'manual')).toBe('open');
    expect(t('cancelled')).toBe('failed');
    expect(t('cancelled', null, 0)).toBe('dropped');
    expect(t('done')).toBe('done');
    expect(t('routed')).toBe('open');
  });
});
