// What a person meets in their first minutes with Orch: titles from elsewhere that carry terminal
// escapes, options that would only fail later, who can read ORCH_HOME, and what `orch task list`
// says once the work is done.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Task } from '../../src/core/types.js';
import { CLI, orch as runOrch, type CliResult } from '../helpers/cli.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';

let scratch: { path: string; cleanup: () => void };
let home: string;
let repo: string;
const orch = (...args: string[]): CliResult => runOrch(args, { cwd: repo, home });

/** C0 (but newline and tab), DEL and C1: what a terminal acts on instead of printing. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const TERMINAL_CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

const modeOf = (path: string) => statSync(path).mode & 0o777;

function expectOneLineError(result: CliResult, code: number, pattern: RegExp): void {
  expect(result.code, result.stdout).toBe(code);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}

beforeEach(() => {
  scratch = tempDir('orch-cli-first-use-');
  home = join(scratch.path, 'home');
  repo = makeRepo(scratch.path, 'shop');
});
afterEach(() => scratch.cleanup());

describe('control characters in human output', () => {
  // Clear screen, bell, backspace, DEL and a C1 CSI: a tracker issue could carry any.
  const title = 'Fix login\u001b[2J\u0007\b\u007f\u009b31m done';

  it('are shown escaped by every command, while --json keeps the text exact', () => {
    expect(orch('init').code).toBe(0);
    const added = orch('task', 'add', title);
    expect(added.code).toBe(0);
    const outputs = [added, orch('task', 'list'), orch('task', 'get', '1'), orch('task', 'show', '1'), orch('task', 'tree'), orch('log', '1'), orch('plan', '--dry-run'), orch('status')];
    for (const result of outputs) {
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).not.toMatch(TERMINAL_CONTROLS);
    }
    expect(orch('task', 'list').stdout).toContain('Fix login\\x1b[2J\\x07\\x08\\x7f\\x9b31m done');
    expect(orch('task', 'get', '1', '--json').json<Task>().title).toBe(title);
    expect(orch('task', 'list', '--json').json<Task[]>()[0]!.title).toBe(title);
  });

  it('are shown escaped in error messages too', () => {
    expect(orch('init').code).toBe(0);
    const refused = orch('task', 'get', '\u001b]0;owned\u0007');
    expect(refused.code).toBe(2);
    expect(refused.stderr).not.toMatch(TERMINAL_CONTROLS);
    expect(refused.stderr).toContain('\\x1b]0;owned\\x07');
  });
});

describe('options that would only fail later are refused at once', () => {
  beforeEach(() => {
    expect(orch('init').code).toBe(0);
  });

  it('refuses a default branch that is not a branch name, or not a branch of the repository', () => {
    const other = makeRepo(scratch.path, 'other');
    const marker = join(scratch.path, 'pwned');
    expectOneLineError(orch('project', 'add', other, '--default-branch', `--upload-pack=touch ${marker}`), 2, /"--upload-pack=touch .*" is not a valid branch name/);
    expectOneLineError(orch('project', 'add', other, '--default-branch', 'a..b'), 2, /"a\.\.b" is not a valid branch name/);
    expectOneLineError(orch('project', 'add', other, '--default-branch', 'nope'), 2, /branch "nope" does not exist/);
    expect(existsSync(marker)).toBe(false);
    expect(readFileSync(join(home, 'config.yaml'), 'utf8')).not.toContain('other');
    expect(orch('project', 'add', other, '--default-branch', 'main').code).toBe(0);
    // The same rule holds in config.yaml.
    const config = join(home, 'config.yaml');
    writeFileSync(config, readFileSync(config, 'utf8').replace(/^(\s+)default_branch: main$/m, '$1default_branch: "--upload-pack=x"'));
    expectOneLineError(orch('task', 'list'), 5, /default_branch.*expected a valid branch name/);
  });

  it('refuses numbers that are not plain decimals', () => {
    for (const grace of ['abc', '0x10', '1e3', '', '-5', 'Infinity']) {
      // Taken, the junk would start a daemon that only fails at its first SIGTERM: give up on it after a while.
      const serve = spawnSync(process.execPath, [CLI, 'serve', '--grace', grace, '--port', '0'], { cwd: repo, env: { ...process.env, ORCH_HOME: home }, encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL' });
      expect(serve.status, grace).toBe(2);
      expect(serve.stderr).toMatch(/^orch: .* is not a number of seconds .*\n$/);
    }
    expectOneLineError(orch('agents', 'stats', '--since', '0x7'), 2, /"0x7" is not a number of days/);
    expectOneLineError(orch('job', 'add', 'j', '--schedule', '* * * * *', '--shell', 'true', '--timeout', '1e2'), 2, /"1e2" is not a number of seconds/);
    expectOneLineError(orch('task', 'add', 'X', '--priority', '0x1'), 2, /"0x1" is not a priority/);
  });

  it('takes task ids only as plain positive decimals', () => {
    expect(orch('task', 'add', 'One').code).toBe(0);
    for (const id of ['0x1', '1e0', '1.0', '+1', '0', ' 1', '0b1']) {
      expectOneLineError(orch('task', 'get', id), 2, /is not a task id/);
    }
    expectOneLineError(orch('task', 'add', 'Two', '--depends-on', '0x1'), 2, /"0x1" is not a task id/);
    expect(orch('task', 'get', '#1').code).toBe(0);
    expect(orch('task', 'get', '01').code).toBe(0);
  });

  it('refuses a repository without a commit, in init and in project add', () => {
    const empty = join(scratch.path, 'empty');
    mkdirSync(empty);
    git(empty, ['init', '-q', '-b', 'main']);
    expectOneLineError(orch('project', 'add', empty), 2, /has no commits yet: commit something first/);
    expectOneLineError(runOrch(['init'], { cwd: empty, home }), 2, /has no commits yet/);
    expect(orch('project', 'list', '--json').json<unknown[]>()).toHaveLength(1);
  });
});

describe('ORCH_HOME is private', () => {
  it('is made 0700 with its files 0600 by init', () => {
    expect(orch('init').code).toBe(0);
    expect(modeOf(home)).toBe(0o700);
    expect(modeOf(join(home, 'config.yaml'))).toBe(0o600);
    expect(modeOf(join(home, 'orch.db'))).toBe(0o600);
    for (const journal of ['orch.db-wal', 'orch.db-shm']) if (existsSync(join(home, journal))) expect(modeOf(join(home, journal))).toBe(0o600);
  });

  it('is tightened at the first start when an older version left it readable', () => {
    expect(orch('init').code).toBe(0);
    // What an older Orch left: everything readable by others.
    const run = join(home, 'runs', '3');
    mkdirSync(join(run, 'home'), { recursive: true });
    writeFileSync(join(run, 'agent.jsonl'), '{}\n');
    writeFileSync(join(run, 'home', 'settings.json'), '{}');
    mkdirSync(join(home, 'logs'));
    writeFileSync(join(home, 'logs', 'daemon.log'), 'log\n');
    for (const dir of [home, join(home, 'runs'), run, join(run, 'home'), join(home, 'logs')]) chmodSync(dir, 0o755);
    for (const file of [join(home, 'orch.db'), join(home, 'config.yaml'), join(run, 'agent.jsonl'), join(run, 'home', 'settings.json'), join(home, 'logs', 'daemon.log')]) chmodSync(file, 0o644);

    expect(orch('task', 'list').code).toBe(0);

    for (const dir of [home, join(home, 'runs'), run, join(run, 'home'), join(home, 'logs')]) expect(modeOf(dir), dir).toBe(0o700);
    for (const file of [join(home, 'orch.db'), join(home, 'config.yaml'), join(run, 'agent.jsonl'), join(run, 'home', 'settings.json'), join(home, 'logs', 'daemon.log')]) {
      expect(modeOf(file), file).toBe(0o600);
    }
  });
});

describe('a real run, as a new user sees it', () => {
  // In the run's own HOME: the one place besides its worktree a sandboxed agent may write, kept after the run.
  const envFile = () => join(home, 'runs', '1', 'home', 'agent-env.txt');

  beforeEach(() => {
    mkdirSync(home);
    const agent = join(scratch.path, 'agent.sh');
    // The agent writes its environment outside the repository, then prints a line with an escape in it.
    writeFileSync(agent, `#!/bin/sh\nenv > "$HOME/agent-env.txt"\necho "hello" > "hello-$ORCH_TASK_ID.txt"\nprintf 'wrote the file \\033[2J\\n'\n`);
    chmodSync(agent, 0o755);
    writeFileSync(join(home, 'config.yaml'), JSON.stringify({ agents: { script: { kind: 'command', command: agent } }, projects: { shop: { path: repo, agents: ['script'], ports: { base: 45000, stride: 10, count: 3 } } } }));
  });

  it('keeps the run private, gives the agent its ports, and still lists the finished task', () => {
    expect(orch('task', 'add', 'Say hello').code).toBe(0);
    const run = orch('run', '--once');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/✓ #1 done/);

    // Ports: PORT is the first of the slot's block (slot 0), the others numbered after it.
    const env = Object.fromEntries(readFileSync(envFile(), 'utf8').split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(env).toMatchObject({ PORT: '45000', PORT_1: '45001', PORT_2: '45002', ORCH_PORTS: '45000,45001,45002', ORCH_SLOT: '0' });

    // The run's files are the owner's alone.
    const runDir = join(home, 'runs', '1');
    expect(modeOf(join(home, 'runs'))).toBe(0o700);
    expect(modeOf(runDir)).toBe(0o700);
    for (const file of ['agent.jsonl', 'agent.stderr.log', 'prompt.md']) expect(modeOf(join(runDir, file)), file).toBe(0o600);

    // The agent's escape is shown escaped in the history.
    const log = orch('log', '1');
    expect(log.stdout).not.toMatch(TERMINAL_CONTROLS);

    // A finished task is not listed by default, but the list says it is there.
    const list = orch('task', 'list');
    expect(list.code).toBe(0);
    expect(list.stdout.trim()).toBe('No open tasks. 1 finished task(s) (done or cancelled) not shown: `orch task list --all` lists them too.');
    expect(orch('task', 'list', '--all').stdout).toMatch(/#1\s+done/);
    expect(orch('task', 'list', '--json').json<Task[]>()).toEqual([]);
  });
});
