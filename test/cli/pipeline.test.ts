import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { orch as runOrch } from '../helpers/cli.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';

let scratch: { path: string; cleanup: () => void };
let home: string;
let repo: string;
const orch = (...args: string[]) => runOrch(args, { cwd: repo, home });

beforeEach(() => {
  scratch = tempDir('orch-cli-pipeline-');
  home = join(scratch.path, 'home');
  repo = makeRepo(scratch.path, 'app');
  mkdirSync(home);
  const agent = join(scratch.path, 'agent.sh');
  writeFileSync(agent, '#!/bin/sh\necho "hello" > "hello-$ORCH_TASK_ID.txt"\necho "wrote the file"\n');
  chmodSync(agent, 0o755);
  writeFileSync(join(home, 'config.yaml'), JSON.stringify({ agents: { script: { kind: 'command', command: agent } }, projects: { app: { path: repo, agents: ['script'] } } }));
});
afterEach(() => scratch.cleanup());

describe('orch task run, orch run, orch log', () => {
  it('runs one task, shows its attempts and history', () => {
    expect(orch('task', 'add', 'Say hello').code).toBe(0);
    const run = orch('task', 'run', '1');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/✓ #1 done — merged as [0-9a-f]{12}/);
    expect(git(repo, ['show', 'main:hello-1.txt'])).toBe('hello');
    const get = orch('task', 'get', '1');
    expect(get.stdout).toContain('Attempts:');
    expect(get.stdout).toMatch(/1\.\s+run 1\s+script\s+succeeded/);
    const log = orch('log', '1');
    expect(log.stdout).toContain('start: routed → running');
    expect(log.stdout).toContain('merge.done');
    expect(log.stdout).toContain('finish: merging → done');
    expect(orch('log', '9').code).toBe(3);
  });

  it('runs the backlog once with live progress', () => {
    orch('task', 'add', 'One');
    orch('task', 'add', 'Two', '--depends-on', '1');
    const run = orch('run', '--once');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/▶ #1 One — script, slot 0/);
    expect(run.stdout).toMatch(/✓ #2 done/);
    expect(run.stdout).toContain('2 attempt(s): 2 merged, 0 not merged.');
    expect(orch('run', '--once', '--project', 'nope').code).toBe(3);
  });
});
