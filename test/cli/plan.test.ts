import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Task } from '../../src/core/types.js';
import { orch as runOrch } from '../helpers/cli.js';
import { makeRepo, tempDir } from '../helpers/git.js';

let scratch: { path: string; cleanup: () => void };
let home: string;
let repo: string;
const orch = (...args: string[]) => runOrch(args, { cwd: repo, home });

const plan = {
  findings: 'An empty repository.',
  tasks: [
    { title: 'Add a README', body: 'Describe the project.\n\nAcceptance criteria:\n- README.md exists', priority: 1 },
    { title: 'Test the README', body: 'Check it is there.\n\nAcceptance criteria:\n- a test checks README.md', role: 'test', depends_on: [0] },
  ],
  deferred: [{ title: 'A website', reason: 'not yet' }],
};

function script(name: string, body: string): string {
  const path = join(scratch.path, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

beforeEach(() => {
  scratch = tempDir('orch-cli-plan-');
  home = join(scratch.path, 'home');
  repo = makeRepo(scratch.path, 'app');
  mkdirSync(home);
  writeFileSync(join(scratch.path, 'plan.json'), JSON.stringify(plan));
  const planner = script('planner.sh', `echo 'Here is the plan.'\necho '\`\`\`json'\ncat "${join(scratch.path, 'plan.json')}"\necho\necho '\`\`\`'`);
  const mute = script('mute.sh', 'echo "I have no plan."');
  writeFileSync(join(home, 'config.yaml'), JSON.stringify({ agents: { planner: { kind: 'command', command: planner }, mute: { kind: 'command', command: mute } }, projects: { app: { path: repo, agents: ['planner'] } } }));
});
afterEach(() => scratch.cleanup());

describe('orch plan', () => {
  it('runs a planner cycle for a project and shows the tasks it wrote, with their roles', () => {
    const result = orch('plan', '--project', 'app');
    expect(result.code, result.stderr).toBe(0);
    // Cycles are counted from 1 in each ORCH_HOME.
    expect(result.stdout).toMatch(/^Plan written to .*runs\/plan-1\/plan\.md$/m);
    expect(result.stdout).toMatch(/Created 2 tasks:\n\s+#1\s+implement\s+priority 1\s+Add a README\n\s+#2\s+test\s+priority 0\s+Test the README {2}\(after #1\)/);
    expect(result.stdout).toContain('Deferred 1:\n  A website: not yet');
    expect(orch('task', 'list').stdout).toMatch(/#2\s+blocked\s+0\s+app\s+test\s+Test the README/);
    expect(orch('task', 'tree').stdout).toContain('#2 [blocked] Test the README  (test, after #1)');

    const json = orch('plan', '--project', 'app', '--json').json<{ cycle: string; planPath: string; created: Task[]; refused: { reason: string }[]; failure: null }>();
    // The same plan again: both are already open, so nothing is created twice.
    expect(json.cycle).toBe('plan-2');
    expect(json.created).toEqual([]);
    expect(json.refused.map((r) => r.reason)).toEqual(['already open as #1', 'already open as #2', 'already open as #1', 'already open as #2']);
    expect(existsSync(json.planPath)).toBe(true);
  });

  it('fails with the plan written when the planner gives nothing usable', () => {
    const result = orch('plan', '--project', 'app', '--agent', 'mute');
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('The planner failed (invalid_plan): no usable plan after a correction');
    expect(result.stdout).toContain('Created no task.');
  });

  it('keeps --dry-run, and says what it needs otherwise', () => {
    expect(orch('plan', '--dry-run').stdout).toContain('Would start nothing.');
    const bare = orch('plan');
    expect(bare.code).toBe(2);
    expect(bare.stderr).toBe('orch: give --project <name> to run a planner cycle, or --dry-run to see what the next tick would start\n');
    expect(orch('plan', '--project', 'nope').code).toBe(3);
    expect(orch('plan', '--project', 'app', '--agent', 'nobody').code).toBe(5);
  });
});
