import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configuredHook, hookIsFatal, runHook, type HookOptions } from '../../src/workspace/hooks.js';
import { tempDir } from '../helpers/git.js';
import { eventually, processRunning } from './fixtures.js';

let scratch: { path: string; cleanup: () => void };

beforeEach(() => {
  scratch = tempDir('orch-hooks-');
});
afterEach(() => scratch.cleanup());

const options = (title: string, overrides: Partial<HookOptions> = {}): HookOptions => ({
  cwd: scratch.path,
  env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PORT: '41000' },
  timeoutMs: 10_000,
  task: { id: 42, title, branch: 'orch/42-title', worktree: scratch.path },
  ...overrides,
});

const HOSTILE_TITLES = [
  '$(touch x)',
  '`touch x`',
  '"; touch x; echo "',
  "'; touch x; echo '",
  '$(touch x) && `touch x` ; touch x | touch x > x',
  '-n -e \\n %s %d',
  'line one\nline two\r\n\ttabbed',
  '$HOME ${PATH} $((1+1)) !! ~ * ?',
  'Ünïcödé 🎉 שלום',
  'x'.repeat(10_000),
];

describe('runHook', () => {
  it('passes trivially when the project has no command for the hook', async () => {
    expect(await runHook('after_create', null, options('t'))).toEqual({
      name: 'after_create',
      command: null,
      ran: false,
      passed: true,
      exitCode: null,
      timedOut: false,
      timeoutMs: 10_000,
      outputTail: '',
      durationMs: 0,
    });
  });

  it('runs an argv command with the task variables added to the given environment', async () => {
    const result = await runHook('before_run', ['sh', '-c', 'echo "$ORCH_HOOK $ORCH_TASK_ID $ORCH_BRANCH $PORT $ORCH_WORKTREE"'], options('t'));
    expect(result).toMatchObject({ name: 'before_run', ran: true, passed: true, exitCode: 0, timedOut: false });
    expect(result.outputTail).toBe(`before_run 42 orch/42-title 41000 ${scratch.path}\n`);
    expect(result.command).toBe('sh -c echo "$ORCH_HOOK $ORCH_TASK_ID $ORCH_BRANCH $PORT $ORCH_WORKTREE"');
  });

  it("gives a pull worker's hooks no task variables before it has claimed a task", async () => {
    const result = await runHook('after_create', ['sh', '-c', 'echo "[${ORCH_TASK_ID-unset}] [${ORCH_TASK_TITLE-unset}] $ORCH_BRANCH"'], options('', { task: { id: null, title: '', branch: 'orch/w3', worktree: scratch.path } }));
    expect(result.outputTail).toBe('[unset] [unset] orch/w3\n');
  });

  it('reports a failing hook with its exit code and the end of its output', async () => {
    const result = await runHook('after_run', { shell: 'seq 1 5000; echo broken >&2; exit 3' }, options('t', { outputLimit: 20 }));
    expect(result).toMatchObject({ passed: false, exitCode: 3, timedOut: false });
    expect(result.outputTail.length).toBeLessThanOrEqual(20);
    expect(result.outputTail).toContain('broken');
  });

  it('reports a command that cannot start', async () => {
    const result = await runHook('after_create', ['/nonexistent/program'], options('t'));
    expect(result.passed).toBe(false);
    expect(result.outputTail).toMatch(/ENOENT/);
  });

  it('hands hostile titles over as data: the exact text reaches the hook and nothing runs', async () => {
    for (const title of HOSTILE_TITLES) {
      const result = await runHook('after_create', { shell: 'printf %s "$ORCH_TASK_TITLE" > title.txt' }, options(title));
      expect(result.passed).toBe(true);
      expect(readFileSync(join(scratch.path, 'title.txt'), 'utf8')).toBe(title);
      expect(existsSync(join(scratch.path, 'x'))).toBe(false);
    }
    expect(readdirSync(scratch.path)).toEqual(['title.txt']);
  });

  it('drops NUL bytes from a title, which an environment variable cannot carry', async () => {
    const result = await runHook('after_create', { shell: 'printf %s "$ORCH_TASK_TITLE"' }, options('a\0b'));
    expect(result.outputTail).toBe('ab');
  });

  it('stops a hook at its time limit together with the processes it started', async () => {
    const result = await runHook(
      'after_create',
      { shell: 'sleep 60 & echo $! > child.pid; sleep 60' },
      options('t', { timeoutMs: 500 }),
    );
    expect(result).toMatchObject({ passed: false, timedOut: true });
    expect(result.durationMs).toBeLessThan(10_000);
    const child = Number(readFileSync(join(scratch.path, 'child.pid'), 'utf8'));
    expect(child).toBeGreaterThan(0);
    expect(await eventually(() => !processRunning(child))).toBe(true);
  });
});

describe('hook rules', () => {
  it('treats failures before the agent runs as fatal and those after as logged', () => {
    expect(hookIsFatal('after_create') && hookIsFatal('before_run')).toBe(true);
    expect(hookIsFatal('after_run') || hookIsFatal('before_remove')).toBe(false);
  });

  it("reads a hook's command from the project's settings", () => {
    const hooks = { afterCreate: ['npm', 'ci'], beforeRun: null, afterRun: { shell: 'make clean' }, beforeRemove: null, timeoutS: 120 };
    expect(configuredHook(hooks, 'after_create')).toEqual(['npm', 'ci']);
    expect(configuredHook(hooks, 'before_run')).toBeNull();
    expect(configuredHook(hooks, 'after_run')).toEqual({ shell: 'make clean' });
  });
});
