import Database from 'better-sqlite3';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Task } from '../../src/core/types.js';
import type { JobInfo } from '../../src/engine/jobs.js';
import { orch as runOrch, type CliResult } from '../helpers/cli.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';

let scratch: { path: string; cleanup: () => void };
let home: string;
let repo: string;
const orch = (...args: string[]): CliResult => runOrch(args, { cwd: repo, home });

function expectOneLineError(result: CliResult, code: number, pattern: RegExp): void {
  expect(result.code).toBe(code);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}

/** Jobs and job events in the store, to prove a refused command wrote nothing. */
function jobRows(): { jobs: number; events: number } {
  const db = new Database(join(home, 'orch.db'), { readonly: true });
  try {
    const jobs = (db.prepare('select count(*) as n from jobs').get() as { n: number }).n;
    const events = (db.prepare("select count(*) as n from events where type like 'job.%'").get() as { n: number }).n;
    return { jobs, events };
  } finally {
    db.close();
  }
}

beforeEach(() => {
  scratch = tempDir('orch-job-cli-');
  home = join(scratch.path, 'home');
  repo = makeRepo(scratch.path, 'shop');
  expect(orch('init').code).toBe(0);
});
afterEach(() => scratch.cleanup());

describe('orch job', () => {
  it('adds a task job, lists it, runs it, and removes it', () => {
    const added = orch('job', 'add', 'triage', '--schedule', '0 3 * * *', '--task', 'Triage {date} #{n} ({job})', '--label', 'ops', '--priority', 'high', '--role', 'review');
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(/^Added job triage to shop \(0 3 \* \* \* UTC\): task "Triage \{date\} #\{n\} \(\{job\}\)"; next run \d{4}-\d\d-\d\d 03:00Z/);

    const list = orch('job', 'list');
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/NAME\s+PROJECT\s+SCHEDULE \(UTC\)\s+KIND\s+ENABLED\s+LAST RUN\s+NEXT RUN/);
    expect(list.stdout).toMatch(/triage\s+shop\s+0 3 \* \* \*\s+task\s+yes\s+never\s+\d{4}-/);

    const dayBefore = new Date().toISOString().slice(0, 10);
    const run = orch('job', 'run', 'triage');
    expect(run.code).toBe(0);
    // {date} is today in UTC (either side of midnight, should the test straddle it).
    const today = /Triage (\d{4}-\d\d-\d\d) /.exec(run.stdout)?.[1];
    expect([dayBefore, new Date().toISOString().slice(0, 10)]).toContain(today);
    expect(run.stdout.trim()).toBe(`Fired triage: added task #1: Triage ${today} #1 (triage)`);
    const again = orch('job', 'run', 'triage', '--json');
    expect(again.json()).toMatchObject({ job: 'triage', kind: 'task', taskId: 2, title: `Triage ${today} #2 (triage)`, agent: null });
    const tasks = orch('task', 'list', '--json').json<Task[]>();
    expect(tasks.map((t) => [t.title, t.labels, t.priority, t.role])).toEqual([
      [`Triage ${today} #1 (triage)`, ['ops'], 1, 'review'],
      [`Triage ${today} #2 (triage)`, ['ops'], 1, 'review'],
    ]);

    const [job] = orch('job', 'list', '--json').json<JobInfo[]>();
    expect(job).toMatchObject({ name: 'triage', project: 'shop', kind: 'task', enabled: true, spec: { title: 'Triage {date} #{n} ({job})', labels: ['ops'], priority: 1, role: 'review' } });
    expect(job?.lastRunAt).toEqual(expect.any(Number));
    expect(job?.nextRunAt).toEqual(expect.any(Number));

    expect(orch('job', 'disable', 'triage').stdout.trim()).toBe('Disabled job triage');
    expect(orch('job', 'list', '--json').json<JobInfo[]>()[0]).toMatchObject({ enabled: false, nextRunAt: null });
    expect(orch('job', 'enable', 'triage', '--json').json<JobInfo>()).toMatchObject({ enabled: true });
    const removed = orch('job', 'remove', 'triage', '--json');
    expect(removed.code).toBe(0);
    expect(removed.json()).toEqual({ removed: 'triage' });
    expect(orch('job', 'list').stdout).toMatch(/^No jobs\./);
  });

  it('runs command jobs in the repository and exits 1 when the command fails', () => {
    writeFileSync(join(repo, 'untracked.txt'), 'x\n');
    expect(orch('job', 'add', 'status', '--schedule', '*/10 * * * *', '--command', '--', 'git', 'status', '--short').code).toBe(0);
    const status = orch('job', 'run', 'status');
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^Fired status: git status --short: exit 0 after [\d.]+s\n {2}\?\? untracked\.txt/);

    expect(orch('job', 'add', 'failing', '--schedule', '0 * * * *', '--shell', 'echo checking; exit 3', '--disabled').code).toBe(0);
    const failing = orch('job', 'run', 'failing', '--json');
    expect(failing.code).toBe(1);
    expect(failing.json()).toMatchObject({ job: 'failing', kind: 'command', exitCode: 3, timedOut: false, output: 'checking\n' });

    expect(orch('job', 'add', 'slow', '--schedule', '0 * * * *', '--shell', 'sleep 20', '--timeout', '0.3').code).toBe(0);
    const slow = orch('job', 'run', 'slow');
    expect(slow.code).toBe(1);
    expect(slow.stdout).toMatch(/^Fired slow: sleep 20: timed out after/);

    const jobs = orch('job', 'list', '--json').json<JobInfo[]>();
    expect(jobs.map((j) => [j.name, j.kind, j.enabled, j.spec])).toEqual([
      ['failing', 'command', false, { command: { shell: 'echo checking; exit 3' } }],
      ['slow', 'command', true, { command: { shell: 'sleep 20' }, timeout_s: 0.3 }],
      ['status', 'command', true, { command: ['git', 'status', '--short'] }],
    ]);
  });

  it('keeps a hostile task title as text', () => {
    const title = '$(touch pwned) `touch pwned2`; {shell}';
    expect(orch('job', 'add', 'hostile', '--schedule', '0 * * * *', '--task', title).code).toBe(0);
    expect(orch('job', 'run', 'hostile', '--json').json<{ title: string }>().title).toBe(title);
    expect(existsSync(join(repo, 'pwned'))).toBe(false);
    expect(existsSync(join(repo, 'pwned2'))).toBe(false);
    expect(git(repo, ['status', '--porcelain'])).toBe('');
  });

  it('refuses bad input in one line with its exit code, writing nothing', () => {
    const before = jobRows();
    expectOneLineError(orch('job', 'add', 'bad', '--schedule', '61 * * * *', '--task', 'x'), 2, /^orch: schedule "61 \* \* \* \*": minute must be 0-59$/);
    expectOneLineError(orch('job', 'add', 'bad', '--schedule', '* * *', '--task', 'x'), 2, /needs 5 fields .* got 3$/);
    expectOneLineError(orch('job', 'add', 'bad', '--schedule', '0 * * * *'), 2, /give exactly one of --task, --command or --shell$/);
    expectOneLineError(orch('job', 'add', 'bad', '--schedule', '0 * * * *', '--task', 'x', '--shell', 'ls'), 2, /got --task and --shell/);
    expectOneLineError(orch('job', 'add', 'bad', '--schedule', '0 * * * *', '--shell', 'ls', '--label', 'x'), 2, /--label applies to --task jobs only/);
    expectOneLineError(orch('job', 'add', 'bad', '--schedule', '0 * * * *', '--task', 'x', '--timeout', '5'), 2, /--timeout applies to --command and --shell jobs only/);
    expectOneLineError(orch('job', 'add', 'bad', '--schedule', '0 * * * *', '--shell', 'ls', '--timeout', 'soon'), 2, /"soon" is not a number of seconds/);
    expectOneLineError(orch('job', 'add', 'bad', '--schedule', '0 * * * *', '--task', 'x', 'stray'), 2, /unexpected arguments "stray"/);
    expectOneLineError(orch('job', 'add', 'Bad Name', '--schedule', '0 * * * *', '--task', 'x'), 2, /job name "Bad Name" must be/);
    expectOneLineError(orch('job', 'add', 'bad', '--schedule', '0 * * * *', '--task', 'x', '--agent', 'ghost'), 3, /agent "ghost" is not configured/);
    expectOneLineError(orch('job', 'add', 'bad', '--schedule', '0 * * * *', '--task', 'x', '--project', 'nope'), 3, /project "nope" not found/);
    expect(jobRows()).toEqual(before);

    const bad = orch('job', 'add', 'bad', '--schedule', '0 0 30 2 *', '--task', 'x', '--json');
    expect(bad.code).toBe(2);
    expect(bad.json()).toEqual({ error: { code: 'invalid_input', message: 'schedule "0 0 30 2 *": never fires' } });

    expect(orch('job', 'add', 'ok', '--schedule', '0 * * * *', '--task', 'x').code).toBe(0);
    expectOneLineError(orch('job', 'add', 'ok', '--schedule', '0 * * * *', '--task', 'x'), 4, /job "ok" already exists/);
    expectOneLineError(orch('job', 'enable', 'ok'), 4, /job "ok" is already enabled/);
    for (const verb of ['run', 'remove', 'enable', 'disable']) expectOneLineError(orch('job', verb, 'missing'), 3, /job "missing" not found/);
    expectOneLineError(orch('job', 'list', '--project', 'nope'), 3, /project "nope" not found/);
  });

  it('shows a schedule with a seconds field as given, its next run to the second', () => {
    const added = orch('job', 'add', 'often', '--schedule', '15,45 * * * * *', '--shell', 'true', '--json').json<JobInfo>();
    // The next run falls on second 15 or 45, which a time cut to the minute would hide.
    expect([15, 45]).toContain(new Date(added.nextRunAt!).getUTCSeconds());
    const next = new Date(added.nextRunAt!).toISOString().slice(0, 19).replace('T', ' ');
    const list = orch('job', 'list');
    expect(list.stdout).toMatch(/often\s+shop\s+15,45 \* \* \* \* \*\s+command/);
    expect(list.stdout).toContain(`${next}Z`);
    // A five-field schedule keeps the minute.
    expect(orch('job', 'add', 'daily', '--schedule', '0 3 * * *', '--shell', 'true').stdout).toMatch(/next run \d{4}-\d\d-\d\d 03:00Z/);
  });
});
