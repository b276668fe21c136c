import Database from 'better-sqlite3';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Task } from '../../src/core/types.js';
import { orch as runOrch, type CliResult } from '../helpers/cli.js';
import { makeRepo, tempDir } from '../helpers/git.js';

let scratch: { path: string; cleanup: () => void };
let home: string;
let repo: string;
const orch = (...args: string[]): CliResult => runOrch(args, { cwd: repo, home });

/** Row counts of the store, to prove a refused command wrote nothing. */
function storeCounts(): Record<string, number> {
  const db = new Database(join(home, 'orch.db'), { readonly: true });
  try {
    const count = (table: string) => (db.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n;
    const versions = (db.prepare('select coalesce(sum(version), 0) as v from tasks').get() as { v: number }).v;
    return { tasks: count('tasks'), events: count('events'), projects: count('projects'), deps: count('task_deps'), versions };
  } finally {
    db.close();
  }
}

function expectOneLineError(result: CliResult, code: number, pattern: RegExp): void {
  expect(result.code).toBe(code);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}

beforeEach(() => {
  scratch = tempDir();
  home = join(scratch.path, 'home');
  repo = makeRepo(scratch.path, 'shop');
});
afterEach(() => scratch.cleanup());

describe('orch init and projects', () => {
  it('creates ORCH_HOME, registers the repository and prints the next steps', () => {
    const init = orch('init');
    expect(init.code).toBe(0);
    expect(init.stdout).toContain('Registered project shop');
    expect(init.stdout).toContain('orch task add');
    expect(readFileSync(join(home, 'config.yaml'), 'utf8')).toContain('shop');
    const list = orch('project', 'list', '--json').json<{ name: string; defaultBranch: string; repoPath: string }[]>();
    expect(list).toEqual([expect.objectContaining({ name: 'shop', defaultBranch: 'main', repoPath: repo })]);
    // Running it again is harmless.
    const again = orch('init', '--json');
    expect(again.code).toBe(0);
    expect(again.json<{ alreadyRegistered: string }>().alreadyRegistered).toBe('shop');
  });

  it('adds, pauses, resumes, reports and removes projects', () => {
    orch('init');
    const other = makeRepo(scratch.path, 'Other Repo');
    const added = orch('project', 'add', other, '--json');
    expect(added.code).toBe(0);
    expect(added.json<{ name: string }>().name).toBe('other-repo');
    expectOneLineError(orch('project', 'add', other), 4, /already registered as project "other-repo"/);
    expect(orch('project', 'pause', 'other-repo', '--reason', 'flaky tests').code).toBe(0);
    expectOneLineError(orch('project', 'pause', 'other-repo'), 4, /already paused/);
    const status = orch('project', 'status', 'other-repo', '--json').json<{ project: { paused: boolean; pausedReason: string } }>();
    expect(status.project).toMatchObject({ paused: true, pausedReason: 'flaky tests' });
    expect(orch('project', 'resume', 'other-repo').code).toBe(0);
    expect(orch('project', 'remove', 'other-repo').code).toBe(0);
    expect(readFileSync(join(home, 'config.yaml'), 'utf8')).not.toContain('other-repo');
    expectOneLineError(orch('project', 'status', 'other-repo'), 3, /project "other-repo" not found/);
  });

  it('refuses a directory that is not a git repository', () => {
    orch('init');
    expectOneLineError(orch('project', 'add', scratch.path), 2, /not inside a git repository/);
  });

  it('asks for `orch init` before anything else', () => {
    expectOneLineError(orch('task', 'list'), 5, /not initialised .*orch init/);
  });
});

describe('orch task', () => {
  beforeEach(() => {
    expect(orch('init').code).toBe(0);
  });

  it('adds tasks with dependencies and shows what the next tick would start', () => {
    const a = orch('task', 'add', 'Set up CI', '--priority', 'high', '--json').json<Task>();
    const b = orch('task', 'add', 'Add', 'login', 'page', '--depends-on', String(a.id), '--label', 'web,auth', '--json').json<Task>();
    expect(b).toMatchObject({ title: 'Add login page', state: 'blocked', dependsOn: [a.id], labels: ['web', 'auth'] });
    const c = orch('task', 'add', 'Write docs', '--role', 'implement', '--body', 'Explain the API', '--json').json<Task>();
    const plan = orch('plan', '--dry-run', '--json').json<{ plan: { starts: { taskId: number }[]; waiting: { taskId: number; reason: string; detail: string }[] } }>();
    expect(plan.plan.starts.map((s) => s.taskId)).toEqual([a.id, c.id]);
    expect(plan.plan.waiting).toEqual([expect.objectContaining({ taskId: b.id, reason: 'blocked', detail: `waits on #${a.id}` })]);
    const human = orch('plan', '--dry-run');
    expect(human.stdout).toContain('Would start 2');
    expect(human.stdout).toContain(`#${b.id}`);
  });

  it('reads the body from a file or stdin', () => {
    writeFileSync(join(scratch.path, 'body.md'), '## Acceptance\n- it works\n');
    const fromFile = orch('task', 'add', 'From file', '--body-file', join(scratch.path, 'body.md'), '--json').json<Task>();
    expect(fromFile.body).toContain('## Acceptance');
    const fromStdin = runOrch(['task', 'add', 'From stdin', '--body-file', '-', '--json'], { cwd: repo, home, input: 'piped body' }).json<Task>();
    expect(fromStdin.body).toBe('piped body');
  });

  it('cancels, retries, unblocks and shows a tree', () => {
    const parent = orch('task', 'add', 'Epic', '--json').json<Task>();
    const child = orch('task', 'add', 'Part one', '--parent', String(parent.id), '--json').json<Task>();
    expect(orch('task', 'get', String(parent.id), '--json').json<Task>().state).toBe('blocked');
    const tree = orch('task', 'tree');
    expect(tree.stdout).toContain(`#${parent.id} [blocked] Epic`);
    expect(tree.stdout).toContain(`└─ #${child.id} [new] Part one`);
    // Cancelling the only child releases the parent (auto-unblock).
    expect(orch('task', 'cancel', String(child.id)).code).toBe(0);
    expect(orch('task', 'get', String(parent.id), '--json').json<Task>().state).toBe('new');
    expectOneLineError(orch('task', 'cancel', String(child.id)), 4, /already cancelled/);
    const retried = orch('task', 'retry', String(child.id), '--json').json<Task>();
    expect(retried).toMatchObject({ state: 'new', attempts: 0 });
    expect(orch('task', 'get', String(parent.id), '--json').json<Task>().state).toBe('blocked');
    const dep = orch('task', 'add', 'Needs epic', '--depends-on', String(parent.id), '--json').json<Task>();
    expectOneLineError(orch('task', 'unblock', String(dep.id)), 4, /--force/);
    const forced = orch('task', 'unblock', String(dep.id), '--force', '--json').json<Task>();
    expect(forced).toMatchObject({ state: 'new', dependsOn: [] });
  });

  it('lists and filters tasks', () => {
    orch('task', 'add', 'One', '--label', 'bug');
    orch('task', 'add', 'Two');
    expect(orch('task', 'list', '--label', 'bug', '--json').json<Task[]>().map((t) => t.title)).toEqual(['One']);
    expect(orch('task', 'list', '--state', 'new', '--json').json<Task[]>()).toHaveLength(2);
    expect(orch('task', 'list').stdout).toMatch(/#1\s+new/);
    expectOneLineError(orch('task', 'list', '--state', 'bogus'), 2, /unknown state "bogus"/);
  });

  it('lists a page of tasks, saying how many more there are and how to see them', () => {
    for (const title of ['One', 'Two', 'Three']) orch('task', 'add', title);
    expect(orch('task', 'cancel', '3').code).toBe(0);
    const page = orch('task', 'list', '--limit', '1');
    expect(page.stdout).toMatch(/#1\s+new/);
    expect(page.stdout).not.toMatch(/#2/);
    expect(page.stdout).toContain('1 more not shown (1 listed, the lowest ids first): `--limit 200` shows more, `--all` every task.');
    expect(page.stdout).toContain('1 finished task(s)');
    const json = orch('task', 'list', '--limit', '1', '--json');
    expect(json.json<Task[]>().map((t) => t.id)).toEqual([1]);
    expect(json.stderr).toMatch(/^orch: 1 more not shown/);
    expect(orch('task', 'list', '--all', '--json').json<Task[]>().map((t) => t.id)).toEqual([1, 2, 3]);
    expect(orch('task', 'list', '--json').stderr).toBe('');
    expectOneLineError(orch('task', 'list', '--limit', '0'), 2, /"0" is not a number of rows/);
  });
});

describe('bad input: one line, non-zero exit, nothing written', () => {
  beforeEach(() => {
    expect(orch('init').code).toBe(0);
    orch('task', 'add', 'First');
    orch('task', 'add', 'Second', '--depends-on', '1');
  });

  it('refuses bad arguments', () => {
    const before = storeCounts();
    expectOneLineError(orch('task', 'add', 'X', '--priority', 'banana'), 2, /"banana" is not a priority/);
    expectOneLineError(orch('task', 'get', 'abc'), 2, /"abc" is not a task id/);
    expectOneLineError(orch('task', 'add', 'X', '--role', 'wizard'), 2, /"wizard" is not a role/);
    expectOneLineError(orch('task', 'add', 'X', '--frobnicate'), 2, /unknown option '--frobnicate'/);
    expectOneLineError(orch('task', 'add', 'X', '--body', 'a', '--body-file', 'b'), 2, /either --body or --body-file/);
    expectOneLineError(orch('task', 'add', '  '), 2, /needs a title/);
    expect(orch('task', 'add', 'X', '--json', '--priority', 'nope').code).toBe(2);
    expect(storeCounts()).toEqual(before);
  });

  it('refuses a task that could never run: a NUL, an oversize body, an endless --body-file', () => {
    const before = storeCounts();
    const binary = join(scratch.path, 'binary.md');
    writeFileSync(binary, 'Fix it.\0\0\0');
    expectOneLineError(orch('task', 'add', 'X', '--body-file', binary), 2, /body must not contain a NUL character/);
    expectOneLineError(runOrch(['task', 'add', 'X', '--body-file', '-'], { cwd: repo, home, input: 'a\0b' }), 2, /NUL character/);
    const huge = join(scratch.path, 'huge.md');
    writeFileSync(huge, 'x'.repeat(300 * 1024));
    expectOneLineError(orch('task', 'add', 'X', '--body-file', huge), 2, /--body-file .*huge\.md: a task body must be at most 256 KiB/);
    // Read only up to the limit: an endless file is refused, not slurped.
    expectOneLineError(orch('task', 'add', 'X', '--body-file', '/dev/zero'), 2, /--body-file \/dev\/zero: a task body must be at most 256 KiB/);
    expectOneLineError(orch('task', 'add', 'X', '--label', 'x'.repeat(101)), 2, /a label must be one non-empty line of at most 100 characters/);
    expect(storeCounts()).toEqual(before);
    const fits = join(scratch.path, 'fits.md');
    writeFileSync(fits, 'y'.repeat(200 * 1024));
    const added = orch('task', 'add', 'Big but fine', '--body-file', fits, '--json');
    expect(added.code).toBe(0);
    expect(added.json<Task>().body).toHaveLength(200 * 1024);
  });

  it('refuses an unknown task id', () => {
    const before = storeCounts();
    expectOneLineError(orch('task', 'get', '99'), 3, /task 99 not found/);
    expectOneLineError(orch('task', 'cancel', '99'), 3, /task 99 not found/);
    expectOneLineError(orch('task', 'add', 'X', '--depends-on', '1,99'), 3, /dependency task 99 not found/);
    expectOneLineError(orch('task', 'add', 'X', '--parent', '99'), 3, /parent task 99 not found/);
    const json = orch('task', 'get', '99', '--json');
    expect(json.code).toBe(3);
    expect(json.json()).toEqual({ error: { code: 'not_found', message: 'task 99 not found' } });
    expect(storeCounts()).toEqual(before);
  });

  it('refuses a dependency cycle', () => {
    const before = storeCounts();
    expectOneLineError(orch('task', 'depend', '1', '--on', '2'), 4, /dependency cycle: #1 → #2 → #1/);
    expectOneLineError(orch('task', 'depend', '1', '--on', '1'), 4, /dependency cycle: #1 → #1/);
    expect(storeCounts()).toEqual(before);
    expect(orch('task', 'get', '1', '--json').json<Task>().dependsOn).toEqual([]);
  });

  it('refuses a malformed config with the file, the key and what was expected', () => {
    const before = storeCounts();
    const configFile = join(home, 'config.yaml');
    const good = readFileSync(configFile, 'utf8');
    writeFileSync(configFile, `${good}\nscheduler:\n  max_agents: lots\n`);
    const bad = orch('task', 'add', 'Should not be written');
    expectOneLineError(bad, 5, /config\.yaml: scheduler\.max_agents: expected an integer >= 1, got "lots"/);
    expect(bad.stderr).toContain(configFile);
    expectOneLineError(orch('config', 'validate'), 5, /scheduler\.max_agents/);
    writeFileSync(configFile, 'scheduler: [unclosed\n');
    expectOneLineError(orch('status'), 5, /config\.yaml: .*line \d+/);
    writeFileSync(configFile, good);
    expect(storeCounts()).toEqual(before);
  });

  it('refuses a malformed orch.yaml in the repository', () => {
    writeFileSync(join(repo, 'orch.yaml'), 'max_agents: 0\n');
    const result = orch('plan', '--dry-run');
    expectOneLineError(result, 5, /orch\.yaml: max_agents: expected/);
    expect(result.stderr).toContain(join(repo, 'orch.yaml'));
  });
});

describe('orch status, claims, config and version', () => {
  it('reports the portfolio', () => {
    orch('init');
    orch('task', 'add', 'One');
    const status = orch('status', '--json').json<{ tasks: Record<string, number>; projects: { name: string }[]; slots: { max: number } }>();
    expect(status.tasks).toEqual({ new: 1 });
    expect(status.projects.map((p) => p.name)).toEqual(['shop']);
    expect(orch('status').stdout).toContain('shop');
    expect(orch('claims', '--json').json()).toEqual([]);
    expect(orch('claims').stdout).toContain('No claims.');
  });

  it('prints config values and the version', () => {
    orch('init');
    expect(orch('config', 'path').stdout.trim()).toBe(join(home, 'config.yaml'));
    expect(orch('config', 'get', 'scheduler.max_agents').stdout.trim()).toBe('4');
    expect(orch('config', 'get', 'projects.shop.max_agents', '--json').json()).toBe(2);
    expectOneLineError(orch('config', 'get', 'no.such.key'), 3, /no config key "no.such.key"/);
    expect(orch('config', 'validate').code).toBe(0);
    expect(orch('version').stdout).toMatch(/^orch \d+\.\d+\.\d+/);
    expect(orch('version', '--json').json<{ orch: string }>().orch).toMatch(/^\d+\.\d+\.\d+$/);
    expect(orch('--version').code).toBe(0);
    expect(orch('--help').code).toBe(0);
  });
});

describe('orch dashboard', () => {
  it('says to start the daemon when none runs', () => {
    expect(orch('init').code).toBe(0);
    expectOneLineError(orch('dashboard'), 3, /no daemon runs for .*: start one with `orch serve`/);
  });
});
