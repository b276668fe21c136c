// Whether an agent changed anything is decided by its branch's diff against the base, not by whether
// it left files uncommitted: an agent may commit its work itself, and a retry goes on from the branch
// an earlier attempt left.

import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openOrch, type Orch } from '../../src/engine/context.js';
import { runTask } from '../../src/engine/runner.js';
import { addTask } from '../../src/engine/tasks.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';

let scratch: { path: string; cleanup: () => void };
let home: string;
let repo: string;
let orch: Orch | null = null;

function script(name: string, body: string): string {
  const path = join(scratch.path, 'bin', name);
  mkdirSync(join(scratch.path, 'bin'), { recursive: true });
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

const block = `printf '%s\\n' '\`\`\`json' '{"status":"done","summary":"ok","remaining":"","follow_ups":[]}' '\`\`\`'`;
const commitAll = 'git add -A && git -c user.name=Agent -c user.email=agent@localhost commit -q -m "agent work"';
const env = { PATH: process.env.PATH };

/** A repository whose test suite fails when any file in src/ contains BUG. */
function makeApp(): void {
  repo = makeRepo(scratch.path, 'app');
  mkdirSync(join(repo, 'src'));
  writeFileSync(join(repo, 'src', 'a.txt'), 'one\n');
  writeFileSync(join(repo, 'test.sh'), '#!/bin/sh\nif grep -rq BUG src; then echo "found BUG in src" >&2; exit 1; fi\necho ok\n');
  chmodSync(join(repo, 'test.sh'), 0o755);
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', 'app with tests']);
}

async function open(): Promise<Orch> {
  const agents = {
    // Commits its work itself and says nothing: no result block.
    committer: script('committer', `echo "added by $ORCH_TASK_ID" > "src/task-$ORCH_TASK_ID.txt"\n${commitAll}`),
    adder: script('adder', `echo "added by $ORCH_TASK_ID" > "src/task-$ORCH_TASK_ID.txt"\n${block}`),
    breaker: script('breaker', `echo BUG > src/broken.txt\n${block}`),
    // Looks, changes nothing, exits 0 without a result block.
    idle: script('idle', 'echo "I had a look and all seems fine."'),
  };
  writeFileSync(
    join(home, 'config.yaml'),
    JSON.stringify({
      agents: Object.fromEntries(Object.entries(agents).map(([name, command]) => [name, { kind: 'command', command }])),
      projects: { app: { path: repo, agents: ['adder'], max_attempts: 2, backoff: { base_s: 0.05, cap_s: 0.1, jitter: 0 }, judge: { test: ['./test.sh'] } } },
    }),
  );
  orch = await openOrch(home);
  return orch;
}

/** Waits out the retry's backoff (50 ms, no jitter): the next attempt may start. */
const afterBackoff = () => new Promise((resolve) => setTimeout(resolve, 120));

beforeEach(() => {
  scratch = tempDir('orch-judged-');
  home = join(scratch.path, 'home');
  mkdirSync(home);
});
afterEach(async () => {
  await orch?.close();
  orch = null;
  scratch.cleanup();
});

describe('whether an agent changed anything is decided by its branch against the base', () => {
  it('judges and merges the work of an agent that commits it itself and exits 0 without a result block', async () => {
    makeApp();
    const orch = await open();
    const task = await addTask(orch.store, { project: 'app', title: 'Add a file' }, orch.now());
    const summary = await runTask(orch, task.id, { agent: 'committer', sourceEnv: env });
    expect(summary.task.state).toBe('done');
    expect(git(repo, ['rev-parse', 'main'])).toBe(summary.merged);
    expect(readFileSync(join(repo, 'src', `task-${task.id}.txt`), 'utf8')).toBe(`added by ${task.id}\n`);
    const types = (await orch.store.listEvents({ taskId: task.id })).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['task.judge', 'judge.verdict', 'merge.done']));
  });

  it('reports the judge\'s failure, not "changed nothing", when the retry of a failing branch changes nothing', async () => {
    makeApp();
    const orch = await open();
    const task = await addTask(orch.store, { project: 'app', title: 'Break things' }, orch.now());
    const first = await runTask(orch, task.id, { agent: 'breaker', sourceEnv: env });
    expect(first.task).toMatchObject({ state: 'routed', attempts: 1 });
    await afterBackoff();
    const second = await runTask(orch, task.id, { agent: 'idle', sourceEnv: env });
    // The retry starts from the branch the judge failed, so that branch is judged again.
    expect(second.task.state).toBe('needs_review');
    expect(second.note).toMatch(/^judge: /);
    expect(second.task.blockedReason).toContain('found BUG in src');
    expect(second.task.blockedReason).not.toContain('changed nothing');
    const secondRun = (await orch.store.getRun(second.runId))!;
    expect((secondRun.result as { failure?: string }).failure).toContain('found BUG in src');
    const escalated = (await orch.store.listEvents({ taskId: task.id })).filter((e) => e.type === 'task.escalate');
    expect(escalated).toHaveLength(1);
    expect(String((escalated[0]!.data as { reason?: string }).reason)).toContain('found BUG in src');
    expect(git(repo, ['log', '--oneline', 'main'])).not.toContain('Break things');
  });

  it('still retries an agent whose branch holds no change at all', async () => {
    makeApp();
    const orch = await open();
    const task = await addTask(orch.store, { project: 'app', title: 'Look around' }, orch.now());
    const summary = await runTask(orch, task.id, { agent: 'idle', sourceEnv: env });
    expect(summary.task.state).toBe('routed');
    expect(summary.note).toContain('changed nothing');
    const types = (await orch.store.listEvents({ taskId: task.id })).map((e) => e.type);
    expect(types).not.toContain('judge.verdict');
  });
});
