import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openOrch, type Orch } from '../../src/engine/context.js';
import { runCycle } from '../../src/engine/cycle.js';
import { runTask } from '../../src/engine/runner.js';
import { addTask } from '../../src/engine/tasks.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';

let scratch: { path: string; cleanup: () => void };
let orch: Orch;
let repo: string;

function script(name: string, body: string): string {
  const path = join(scratch.path, 'bin', name);
  mkdirSync(join(scratch.path, 'bin'), { recursive: true });
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

const block = `printf '%s\\n' '\`\`\`json' '{"status":"done","summary":"ok","remaining":"","follow_ups":[]}' '\`\`\`'`;

beforeEach(async () => {
  scratch = tempDir('orch-runner-');
  repo = makeRepo(scratch.path, 'app');
  // A real test suite: fails when any file in src/ contains BUG.
  mkdirSync(join(repo, 'src'));
  writeFileSync(join(repo, 'src', 'a.txt'), 'one\n');
  writeFileSync(join(repo, 'test.sh'), '#!/bin/sh\nif grep -rq BUG src; then echo "found BUG in src" >&2; exit 1; fi\necho ok\n');
  chmodSync(join(repo, 'test.sh'), 0o755);
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', 'app with tests']);
  const home = join(scratch.path, 'home');
  mkdirSync(home);
  const agents = {
    adder: script('adder', `echo "added by $ORCH_TASK_ID" > "src/task-$ORCH_TASK_ID.txt"\n${block}`),
    breaker: script('breaker', `echo BUG > src/broken.txt\n${block}`),
    editor: script('editor', `echo "two from $ORCH_TASK_ID" > src/a.txt\n${block}`),
    planner: script('planner', `echo "x" > src/planned.txt\nprintf '%s\\n' '\`\`\`json' '{"status":"done","summary":"ok","remaining":"","follow_ups":["Write the docs for it","Add a benchmark","Paste\\u0000this"]}' '\`\`\`'`),
    strict: script('strict', `echo '{"passed": false, "reasoning": "no tests for the new file", "issues": ["add a test"]}'`),
    lenient: script('lenient', `echo '{"passed": true, "reasoning": "fine", "issues": []}'`),
  };
  writeFileSync(
    join(home, 'config.yaml'),
    JSON.stringify({
      agents: Object.fromEntries(Object.entries(agents).map(([name, command]) => [name, { kind: 'command', command }])),
      projects: { app: { path: repo, agents: ['adder'], max_attempts: 2, max_agents: 3, backoff: { base_s: 0.05, cap_s: 0.1, jitter: 0 }, judge: { test: ['./test.sh'] } } },
    }),
  );
  orch = await openOrch(home);
});
afterEach(async () => {
  await orch.close();
  scratch.cleanup();
});

const env = { PATH: process.env.PATH };

describe('the pipeline, task to merged commit', () => {
  it('merges a passing change into the user repository and cleans up', async () => {
    const task = await addTask(orch.store, { project: 'app', title: 'Add a file' }, orch.now());
    const summary = await runTask(orch, task.id, { agent: 'adder', sourceEnv: env });
    expect(summary.task.state).toBe('done');
    expect(summary.merged).toMatch(/^[0-9a-f]{40}$/);
    expect(summary.delivery).toEqual({ delivered: true });
    // The user's checkout (main, clean) was fast-forwarded by git itself.
    expect(git(repo, ['rev-parse', 'main'])).toBe(summary.merged);
    expect(readFileSync(join(repo, 'src', `task-${task.id}.txt`), 'utf8')).toBe(`added by ${task.id}\n`);
    expect(git(repo, ['log', '-1', '--format=%s%n%b', 'main'])).toContain(`Orch task #${task.id}`);
    const runDir = join(orch.home, 'runs', String(summary.runId));
    expect(readdirSync(runDir).sort()).toEqual(expect.arrayContaining(['agent.jsonl', 'diffstat.txt', 'prompt.md', 'verdict.md']));
    expect(readFileSync(join(runDir, 'verdict.md'), 'utf8')).toMatch(/tests/i);
    expect(existsSync(join(orch.home, 'projects', 'app', 'worktrees', String(task.id)))).toBe(false);
    expect(await orch.store.listClaims()).toEqual([]);
    const types = (await orch.store.listEvents({ taskId: task.id })).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['workspace.ready', 'workspace.committed', 'task.judge', 'judge.verdict', 'task.merge', 'merge.done', 'delivery.done', 'task.finish', 'workspace.removed']));
    expect((await orch.store.getRun(summary.runId))!.endReason).toBe('merged');
  });

  it('retries a change that breaks the tests with the failure in its prompt, then asks a person', async () => {
    const task = await addTask(orch.store, { project: 'app', title: 'Break things' }, orch.now());
    const first = await runTask(orch, task.id, { agent: 'breaker', sourceEnv: env });
    expect(first.task).toMatchObject({ state: 'routed', attempts: 1 });
    await new Promise((r) => setTimeout(r, 120));
    const second = await runTask(orch, task.id, { agent: 'breaker', sourceEnv: env });
    expect(readFileSync(join(orch.home, 'runs', String(second.runId), 'prompt.md'), 'utf8')).toContain('found BUG in src');
    expect(second.task.state).toBe('needs_review');
    expect(git(repo, ['log', '--oneline', 'main'])).not.toContain('Break things');
    expect((await orch.store.listRuns({ taskId: task.id })).map((r) => r.endReason)).toEqual(['judge_failed', 'judge_failed']);
  });

  it('never touches a dirty checkout: the merge waits in Orch until git accepts it', async () => {
    writeFileSync(join(repo, 'src', 'a.txt'), 'my uncommitted edit\n');
    const before = git(repo, ['rev-parse', 'main']);
    const task = await addTask(orch.store, { project: 'app', title: 'Add a file' }, orch.now());
    const summary = await runTask(orch, task.id, { agent: 'adder', sourceEnv: env });
    expect(summary.task.state).toBe('done');
    expect(summary.delivery).toMatchObject({ delivered: false, reason: 'dirty_checkout' });
    expect(readFileSync(join(repo, 'src', 'a.txt'), 'utf8')).toBe('my uncommitted edit\n');
    expect(git(repo, ['rev-parse', 'main'])).toBe(before);
  });

  it('runs a backlog in parallel with a cycle, merging each on top of the last', async () => {
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push((await addTask(orch.store, { project: 'app', title: `File ${i}` }, orch.now())).id);
    const results = await runCycle(orch, { once: true, pollMs: 50, sourceEnv: env });
    expect(results.map((r) => r.task.state).sort()).toEqual(['done', 'done', 'done', 'done']);
    // When a file is missing, say what the deliveries and the checkout looked like.
    const story = async () => JSON.stringify({ events: (await orch.store.listEvents({ project: 'app' })).filter((e) => /^(delivery|merge|workspace)\./.test(e.type)).map((e) => [e.taskId, e.type, e.data]), status: git(repo, ['status', '--porcelain']), log: git(repo, ['log', '--stat', '--format=%h %s', 'main']) });
    for (const id of ids) expect(existsSync(join(repo, 'src', `task-${id}.txt`)), await story()).toBe(true);
    expect(Number(git(repo, ['rev-list', '--count', 'main']))).toBe(2 + 4);
  });

  it('sweeps worktrees no open task owns when a cycle starts, and keeps those waiting for a person', async () => {
    const broken = await addTask(orch.store, { project: 'app', title: 'Break things' }, orch.now());
    orch.config.projects.app!.maxAttempts = 1;
    expect((await runTask(orch, broken.id, { agent: 'breaker', sourceEnv: env })).task.state).toBe('needs_review');
    const cancelled = await addTask(orch.store, { project: 'app', title: 'Also breaks' }, orch.now());
    await runTask(orch, cancelled.id, { agent: 'breaker', sourceEnv: env });
    await orch.store.transaction(async (tx) => {
      const t = (await tx.getTask(cancelled.id))!;
      await tx.updateTask(t.id, { expectedVersion: t.version }, { state: 'cancelled' }, orch.now(), { type: 'test.cancel' });
    });
    const worktrees = join(orch.home, 'projects', 'app', 'worktrees');
    expect(readdirSync(worktrees).sort()).toEqual([String(broken.id), String(cancelled.id), 'spare'].sort());
    await runCycle(orch, { once: true, pollMs: 20, sourceEnv: env });
    // The spare made for the next task is no task's to sweep.
    expect(readdirSync(worktrees).sort()).toEqual([String(broken.id), 'spare'].sort());
  });

  it('with the pr strategy, pushes the judged branch to the remote instead of merging', async () => {
    const remote = join(scratch.path, 'remote.git');
    git(scratch.path, ['init', '-q', '--bare', remote]);
    Object.assign(orch.config.projects.app!, { mergeStrategy: 'pr', remote });
    const task = await addTask(orch.store, { project: 'app', title: 'Propose a file' }, orch.now());
    const summary = await runTask(orch, task.id, { agent: 'adder', sourceEnv: env });
    expect(summary.task.state).toBe('needs_review');
    expect(summary.note).toContain('pushed to');
    // The run did all it could: pushing the branch is a success; opening the pull request is a person's.
    expect((await orch.store.getRun(summary.runId))!.endReason).toBe('branch_pushed');
    const branch = git(remote, ['for-each-ref', '--format=%(refname:short)', 'refs/heads/orch/']);
    expect(branch).toBe(`orch/${task.id}-propose-a-file`);
    expect(git(repo, ['log', '--oneline', 'main'])).not.toContain('Propose a file');
  });

  it('turns the agent\'s follow-ups into new tasks under the finished one', async () => {
    const task = await addTask(orch.store, { project: 'app', title: 'Build the feature' }, orch.now());
    const summary = await runTask(orch, task.id, { agent: 'planner', sourceEnv: env });
    expect(summary.task.state).toBe('done');
    const children = await orch.store.listTasks({ parentId: task.id });
    expect(children.map((c) => [c.title, c.state])).toEqual([
      ['Write the docs for it', 'new'],
      ['Add a benchmark', 'new'],
    ]);
    expect(children[0]!.body).toContain(`Follow-up from task #${task.id}`);
    // One that could never run is left out, with the reason, and does not stop the others.
    const refused = await orch.store.listEvents({ taskId: task.id, types: ['task.follow_up_refused'] });
    expect(refused.map((e) => e.data)).toEqual([{ title: 'Paste this', reason: expect.stringMatching(/must not contain a NUL character/) }]);
  });

  it('sends a change the reviewer rejects back with its issues, and to a person after the review rounds', async () => {
    orch.config.projects.app!.judge.review = { agent: 'strict', rounds: 2 };
    orch.config.projects.app!.maxAttempts = 5;
    const task = await addTask(orch.store, { project: 'app', title: 'Add a file' }, orch.now());
    const first = await runTask(orch, task.id, { agent: 'adder', sourceEnv: env });
    expect(first.task.state).toBe('routed');
    await new Promise((r) => setTimeout(r, 120));
    const second = await runTask(orch, task.id, { agent: 'adder', sourceEnv: env });
    expect(readFileSync(join(orch.home, 'runs', String(second.runId), 'prompt.md'), 'utf8')).toContain('add a test');
    expect(second.task.state).toBe('needs_review');
    expect((await orch.store.listRuns({ taskId: task.id })).map((r) => r.endReason)).toEqual(['review_rejected', 'review_rejected']);
    orch.config.projects.app!.judge.review = { agent: 'lenient', rounds: 2 };
    const other = await addTask(orch.store, { project: 'app', title: 'Add another file' }, orch.now());
    expect((await runTask(orch, other.id, { agent: 'adder', sourceEnv: env })).task.state).toBe('done');
  });

  it('says a before_run hook timed out, and how long it had, apart from one that failed', async () => {
    const hooks = orch.config.projects.app!.hooks;
    hooks.timeoutS = 0.5;
    hooks.beforeRun = { shell: 'echo preparing; sleep 60' };
    const slow = await addTask(orch.store, { project: 'app', title: 'Slow hook' }, orch.now());
    await runTask(orch, slow.id, { agent: 'adder', sourceEnv: env });
    const [timedOut] = await orch.store.listEvents({ taskId: slow.id, types: ['run.failed'] });
    expect(timedOut!.data).toMatchObject({ reason: 'the before_run hook timed out after 0.5 s: preparing\n', endReason: 'hook_failed' });

    hooks.beforeRun = { shell: 'echo broken; exit 3' };
    const failing = await addTask(orch.store, { project: 'app', title: 'Failing hook' }, orch.now());
    await runTask(orch, failing.id, { agent: 'adder', sourceEnv: env });
    const [failed] = await orch.store.listEvents({ taskId: failing.id, types: ['run.failed'] });
    expect(failed!.data).toMatchObject({ reason: 'the before_run hook failed: broken\n', endReason: 'hook_failed' });
  });

  it('keeps hostile titles out of shells and branch names', async () => {
    // Titles as a tracker could deliver them (the CLI refuses some of these; an issue title may hold anything).
    const titles = ['$(touch pwned)', '; touch pwned ;', '`touch pwned`', '../../etc/passwd', '--upload-pack=touch pwned', 'line one\nline two', 'ünïcødé ✨ 日本語', 'x'.repeat(10_000)];
    const hookOut = join(scratch.path, 'hook-out');
    mkdirSync(hookOut);
    orch.config.projects.app!.hooks.beforeRun = { shell: 'printf %s "$ORCH_TASK_TITLE" > "$TMPDIR/title-$ORCH_TASK_ID"' };
    // The hook hands the title to the test in a directory outside the worktree, which a sandboxed hook
    // may not write: the sandbox itself is tested in test/e2e/sandbox-escape.e2e.test.ts.
    orch.config.projects.app!.sandbox = 'off';
    for (const title of titles) {
      const task = await orch.store.createTask({ project: 'app', title }, orch.now());
      const summary = await runTask(orch, task.id, { agent: 'adder', sourceEnv: { ...env, TMPDIR: hookOut } });
      expect(summary.task.state).toBe('done');
      expect(readFileSync(join(hookOut, `title-${task.id}`), 'utf8')).toBe(title);
      expect(git(repo, ['log', '-1', '--format=%b', 'main'])).toContain(`Orch task #${task.id}`);
    }
    expect(existsSync(join(repo, 'pwned'))).toBe(false);
    expect(existsSync(join(scratch.path, 'pwned'))).toBe(false);
    const branches = git(join(orch.home, 'projects', 'app', 'repo'), ['branch', '--list', '--format=%(refname)']);
    expect(branches.split('\n').filter((b) => b.includes('orch/'))).toEqual([]);
  });
});
