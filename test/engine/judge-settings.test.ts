// The judge runs the settings of the repository Orch works in — config.yaml with the orch.yaml committed
// at the change's base — never those of the person's working copy, nor an orch.yaml the agent edited.

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
const env = { PATH: process.env.PATH };

/** A repository whose test suite fails when any file in src/ contains BUG; `orchYaml` committed at its root when given. */
function makeApp(orchYaml?: string): void {
  repo = makeRepo(scratch.path, 'app');
  mkdirSync(join(repo, 'src'));
  writeFileSync(join(repo, 'src', 'a.txt'), 'one\n');
  writeFileSync(join(repo, 'test.sh'), '#!/bin/sh\nif grep -rq BUG src; then echo "found BUG in src" >&2; exit 1; fi\necho ok\n');
  chmodSync(join(repo, 'test.sh'), 0o755);
  if (orchYaml !== undefined) writeFileSync(join(repo, 'orch.yaml'), orchYaml);
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', 'app with tests']);
}

async function open(project: Record<string, unknown>): Promise<Orch> {
  const agents = {
    adder: script('adder', `echo "added by $ORCH_TASK_ID" > "src/task-$ORCH_TASK_ID.txt"\n${block}`),
    breaker: script('breaker', `echo BUG > src/broken.txt\n${block}`),
    // Breaks the tests and, on its branch, tries to switch the tests off.
    cheater: script('cheater', `echo BUG > src/broken.txt\nprintf 'judge:\\n  test: [sh, -c, "exit 0"]\\n' > orch.yaml\n${block}`),
  };
  writeFileSync(
    join(home, 'config.yaml'),
    JSON.stringify({
      agents: Object.fromEntries(Object.entries(agents).map(([name, command]) => [name, { kind: 'command', command }])),
      projects: { app: { path: repo, agents: ['adder'], ...project } },
    }),
  );
  orch = await openOrch(home);
  return orch;
}

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

describe('the judge runs the settings committed in the repository', () => {
  const committed = 'judge:\n  test: [./test.sh]\n';

  it('ignores an uncommitted edit to orch.yaml in the user\'s checkout', async () => {
    makeApp(committed);
    // The person is trying something out: tests that always fail, not committed.
    writeFileSync(join(repo, 'orch.yaml'), 'judge:\n  test: [sh, -c, "echo from the working copy; exit 1"]\n');
    const orch = await open({});
    const task = await addTask(orch.store, { project: 'app', title: 'Add a file' }, orch.now());
    const summary = await runTask(orch, task.id, { agent: 'adder', sourceEnv: env });
    expect(summary.task.state).toBe('done');
    const verdict = readFileSync(join(orch.home, 'runs', String(summary.runId), 'verdict.md'), 'utf8');
    expect(verdict).toContain('./test.sh');
    expect(verdict).not.toContain('from the working copy');
  });

  it('keeps judging a change by the committed tests when the working copy switches them off', async () => {
    makeApp(committed);
    writeFileSync(join(repo, 'orch.yaml'), 'judge:\n  test: null\n');
    const orch = await open({});
    const task = await addTask(orch.store, { project: 'app', title: 'Break things' }, orch.now());
    const summary = await runTask(orch, task.id, { agent: 'breaker', sourceEnv: env });
    expect(summary.task.state).toBe('routed');
    expect(summary.note).toMatch(/^judge: /);
    expect((await orch.store.getRun(summary.runId))!.result).toMatchObject({ failure: expect.stringContaining('found BUG in src') });
  });

  it('ignores an orch.yaml the agent changed on its branch', async () => {
    makeApp(committed);
    const orch = await open({});
    const task = await addTask(orch.store, { project: 'app', title: 'Break things' }, orch.now());
    const summary = await runTask(orch, task.id, { agent: 'cheater', sourceEnv: env });
    expect(summary.task.state).toBe('routed');
    expect((await orch.store.getRun(summary.runId))!.result).toMatchObject({ failure: expect.stringContaining('found BUG in src') });
  });

  it('uses config.yaml alone when the repository commits no orch.yaml, whatever the working copy holds', async () => {
    makeApp();
    writeFileSync(join(repo, 'orch.yaml'), 'judge:\n  test: null\n');
    const orch = await open({ judge: { test: ['./test.sh'] } });
    const task = await addTask(orch.store, { project: 'app', title: 'Break things' }, orch.now());
    const summary = await runTask(orch, task.id, { agent: 'breaker', sourceEnv: env });
    expect(summary.task.state).toBe('routed');
    expect((await orch.store.getRun(summary.runId))!.result).toMatchObject({ failure: expect.stringContaining('found BUG in src') });
  });
});
