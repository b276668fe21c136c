import { existsSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OrchError } from '../../src/core/errors.js';
import type { Job } from '../../src/core/types.js';
import { openOrch, type Orch } from '../../src/engine/context.js';
import {
  JobScheduler,
  addJob,
  fireJob,
  listJobs,
  nextRuns,
  removeJob,
  runJobNow,
  setJobEnabled,
  type JobNotice,
  type JobOutcome,
} from '../../src/engine/jobs.js';
import { makeRepo, tempDir } from '../helpers/git.js';

let scratch: { path: string; cleanup: () => void };
let orch: Orch;
let repo: string;
let clock: number;
const schedulers: JobScheduler[] = [];

const START = Date.UTC(2026, 2, 4, 9, 5, 30);

beforeEach(async () => {
  scratch = tempDir('orch-jobs-');
  repo = makeRepo(scratch.path, 'app');
  const home = join(scratch.path, 'home');
  mkdirSync(home);
  writeFileSync(
    join(home, 'config.yaml'),
    JSON.stringify({
      agents: { fixer: { kind: 'command', command: '/bin/true' } },
      projects: {
        app: { path: repo },
        remote: { remote: 'https://example.invalid/remote.git', default_branch: 'main' },
      },
    }),
  );
  clock = START;
  orch = await openOrch(home, () => clock);
});
afterEach(async () => {
  // Every scheduler a test made is stopped, even when the test failed half-way.
  await Promise.all(schedulers.splice(0).map((s) => s.stop()));
  await orch.close();
  scratch.cleanup();
});

function scheduler(options: ConstructorParameters<typeof JobScheduler>[1] = {}): JobScheduler {
  const made = new JobScheduler(orch, options);
  schedulers.push(made);
  return made;
}

async function refusal(promise: Promise<unknown>): Promise<OrchError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OrchError);
  expect((error as Error).message).not.toContain('\n');
  return error as OrchError;
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const eventsOf = async (type: string) => (await orch.store.listEvents({ types: [type] })).map((e) => e.data);
const getJob = async (name: string): Promise<Job> => (await orch.store.getJob(name))!;
const commandOutcome = (outcome: JobOutcome) => {
  if (outcome.kind !== 'command') throw new Error('expected a command outcome');
  return outcome;
};

describe('managing jobs', () => {
  it('adds, lists, disables, enables and removes jobs', async () => {
    const added = await addJob(orch, { name: 'triage', project: 'app', schedule: '  0   3 * * *  ', kind: 'task', spec: { title: 'Triage {date}' } });
    expect(added).toMatchObject({ name: 'triage', project: 'app', schedule: '0 3 * * *', kind: 'task', spec: { title: 'Triage {date}' }, enabled: true, lastRunAt: null });
    // Next run from Orch's clock (09:05:30 UTC): 03:00 the next day.
    expect(added.nextRunAt).toBe(Date.UTC(2026, 2, 5, 3, 0));
    await addJob(orch, { name: 'lint', project: 'app', schedule: '*/15 * * * *', kind: 'command', spec: { command: ['npm', 'run', 'lint'] }, enabled: false });

    const listed = await listJobs(orch);
    expect(listed.map((j) => [j.name, j.enabled, j.nextRunAt === null])).toEqual([
      ['lint', false, true],
      ['triage', true, false],
    ]);
    expect(await listJobs(orch, { project: 'remote' })).toEqual([]);
    expect((await refusal(listJobs(orch, { project: 'nope' }))).code).toBe('not_found');

    expect((await setJobEnabled(orch, 'triage', false)).enabled).toBe(false);
    expect((await refusal(setJobEnabled(orch, 'triage', false))).message).toBe('job "triage" is already disabled');
    const enabled = await setJobEnabled(orch, 'triage', true);
    expect(enabled.enabled).toBe(true);
    expect(enabled.nextRunAt).not.toBeNull();

    await removeJob(orch, 'lint');
    expect((await listJobs(orch)).map((j) => j.name)).toEqual(['triage']);
    expect((await refusal(removeJob(orch, 'lint'))).code).toBe('not_found');
    expect((await refusal(setJobEnabled(orch, 'lint', true))).code).toBe('not_found');
    expect((await refusal(runJobNow(orch, 'lint'))).code).toBe('not_found');
    expect((await orch.store.listEvents({ types: ['job.added', 'job.disabled', 'job.enabled', 'job.removed'] })).map((e) => e.type)).toEqual([
      'job.added',
      'job.added',
      'job.disabled',
      'job.enabled',
      'job.removed',
    ]);
  });

  it('refuses a bad schedule in one line naming the field, and writes nothing', async () => {
    const cases: [string, string][] = [
      ['61 * * * *', 'schedule "61 * * * *": minute must be 0-59'],
      ['0 24 * * *', 'schedule "0 24 * * *": hour must be 0-23'],
      ['0 0 32 * *', 'schedule "0 0 32 * *": day of month must be 1-31'],
      ['0 0 * 13 *', 'schedule "0 0 * 13 *": month must be 1-12'],
      ['0 0 * * 9', 'schedule "0 0 * * 9": day of week must be 0-7 (0 and 7 are Sunday)'],
      ['60 * * * * *', 'schedule "60 * * * * *": second must be 0-59'],
      ['* * * *', 'schedule "* * * *": needs 5 fields (minute hour day month weekday) or 6 (seconds first), got 4'],
      ['* * * * * * *', 'schedule "* * * * * * *": needs 5 fields (minute hour day month weekday) or 6 (seconds first), got 7'],
      ['', 'schedule "": needs 5 fields (minute hour day month weekday) or 6 (seconds first), got 0'],
      ['0 0 30 2 *', 'schedule "0 0 30 2 *": never fires'],
    ];
    for (const [schedule, message] of cases) {
      const error = await refusal(addJob(orch, { name: 'bad', project: 'app', schedule, kind: 'task', spec: { title: 'x' } }));
      expect(error.code).toBe('invalid_input');
      expect(error.message).toBe(message);
    }
    const reboot = await refusal(addJob(orch, { name: 'bad', project: 'app', schedule: '@reboot', kind: 'task', spec: { title: 'x' } }));
    expect(reboot.message).toMatch(/^schedule "@reboot": needs 5 fields .*got 1$/);
    const odd = await refusal(addJob(orch, { name: 'bad', project: 'app', schedule: 'a b c d e', kind: 'task', spec: { title: 'x' } }));
    expect(odd.message).toMatch(/^schedule "a b c d e": .*illegal characters/);
    expect(await orch.store.listJobs()).toEqual([]);
    expect(await orch.store.listEvents({ types: ['job.added'] })).toEqual([]);
  });

  it('refuses an unknown project, a taken name, a bad spec and a command job without a repository', async () => {
    const base = { name: 'j', project: 'app', schedule: '0 * * * *', kind: 'task', spec: { title: 'x' } };
    expect((await refusal(addJob(orch, { ...base, project: 'nope' }))).code).toBe('not_found');
    expect((await refusal(addJob(orch, { ...base, name: 'No Spaces' }))).code).toBe('invalid_input');
    expect((await refusal(addJob(orch, { ...base, kind: 'email' }))).message).toBe('unknown job kind "email": use task or command');
    expect((await refusal(addJob(orch, { ...base, spec: { title: 'x', shell: 'id' } }))).message).toMatch(/^task job: shell: unknown key/);
    expect((await refusal(addJob(orch, { ...base, spec: { title: 'x', agent: 'ghost' } }))).message).toMatch(/^agent "ghost" is not configured/);
    const remote = await refusal(addJob(orch, { ...base, project: 'remote', kind: 'command', spec: { command: ['ls'] } }));
    expect(remote.message).toBe('project "remote" has no local repository: a command job runs in one');
    expect(await orch.store.listJobs()).toEqual([]);
    await addJob(orch, base);
    expect((await refusal(addJob(orch, base))).code).toBe('conflict');
  });

  it('lists the next runs of a schedule, in UTC, from a given time', () => {
    const from = Date.UTC(2026, 0, 1, 12, 0);
    expect(nextRuns('0 3 * * *', 3, from)).toEqual([Date.UTC(2026, 0, 2, 3), Date.UTC(2026, 0, 3, 3), Date.UTC(2026, 0, 4, 3)]);
    expect(nextRuns('*/20 * * * * *', 2, from)).toEqual([from + 20_000, from + 40_000]);
    expect(nextRuns('@daily', 1, from)).toEqual([Date.UTC(2026, 0, 2)]);
    expect(() => nextRuns('61 * * * *', 1, from)).toThrow(/minute must be 0-59/);
  });
});

describe('firing a task job', () => {
  it('adds the task with its templates rendered, counting runs, and records the firing', async () => {
    await addJob(orch, {
      name: 'standup',
      project: 'app',
      schedule: '0 9 * * 1-5',
      kind: 'task',
      spec: { title: 'Standup notes {date} {time} ({job} #{n}) {other}', body: 'Run {n} of {job}', labels: ['ops'], priority: 2, role: 'plan' },
    });
    const first = await fireJob(orch, await getJob('standup'), clock);
    expect(first).toMatchObject({ kind: 'task', title: 'Standup notes 2026-03-04 09:05 (standup #1) {other}', agent: null });
    const task = (await orch.store.getTask((first as { taskId: number }).taskId))!;
    expect(task).toMatchObject({ project: 'app', state: 'new', body: 'Run 1 of standup', labels: ['ops'], priority: 2, role: 'plan', agent: null });
    expect((await getJob('standup')).lastRunAt).toBe(clock);

    clock += 86_400_000;
    const second = await fireJob(orch, await getJob('standup'), clock);
    expect(second).toMatchObject({ title: 'Standup notes 2026-03-05 09:05 (standup #2) {other}' });
    const fired = await orch.store.listEvents({ types: ['job.fired'] });
    expect(fired.map((e) => [e.taskId, e.data.name, e.data.trigger])).toEqual([
      [task.id, 'standup', 'schedule'],
      [(second as { taskId: number }).taskId, 'standup', 'schedule'],
    ]);
  });

  it('routes the task to the job\'s agent with a plain field update and its event', async () => {
    await addJob(orch, { name: 'fix', project: 'app', schedule: '0 * * * *', kind: 'task', spec: { title: 'Fix flaky tests', agent: 'fixer' } });
    const outcome = await runJobNow(orch, 'fix');
    expect(outcome).toMatchObject({ kind: 'task', agent: 'fixer' });
    const task = (await orch.store.listTasks())[0]!;
    expect(task).toMatchObject({ agent: 'fixer', state: 'new' });
    expect((await orch.store.listEvents({ taskId: task.id, types: ['task.agent'] }))[0]?.data).toEqual({ agent: 'fixer', by: 'job fix' });
    expect((await orch.store.listEvents({ types: ['job.fired'] }))[0]?.data.trigger).toBe('manual');
  });

  it('keeps a hostile title as the task\'s text', async () => {
    const title = '$(touch pwned) `touch pwned2`; rm -rf ~ {shell}';
    await addJob(orch, { name: 'hostile', project: 'app', schedule: '0 * * * *', kind: 'task', spec: { title } });
    const outcome = await runJobNow(orch, 'hostile');
    expect((outcome as { title: string }).title).toBe(title);
    expect(existsSync(join(repo, 'pwned'))).toBe(false);
    expect(existsSync(join(repo, 'pwned2'))).toBe(false);
  });

  it('records job.failed and throws when the job cannot fire', async () => {
    // Stored past the checks of addJob, as a job whose agent was later removed from the config would be.
    await orch.store.addJob({ name: 'ghostly', project: 'app', schedule: '0 * * * *', kind: 'task', spec: { title: 'x', agent: 'ghost' } }, clock);
    expect((await refusal(runJobNow(orch, 'ghostly'))).message).toMatch(/agent "ghost" is not configured/);
    expect(await eventsOf('job.failed')).toEqual([expect.objectContaining({ name: 'ghostly', trigger: 'manual', error: expect.stringMatching(/ghost/) })]);
    expect(await orch.store.listTasks()).toEqual([]);
    expect((await getJob('ghostly')).lastRunAt).toBeNull();
  });
});

describe('firing a command job', () => {
  it('runs in the project\'s repository with the allow-listed environment and records the output', async () => {
    await addJob(orch, {
      name: 'where',
      project: 'app',
      schedule: '0 * * * *',
      kind: 'command',
      spec: { command: { shell: 'pwd -P; echo "job=$ORCH_JOB secret=${ORCH_TEST_SECRET:-unset}"; echo oops >&2; exit 3' } },
    });
    const outcome = commandOutcome(await runJobNow(orch, 'where', { sourceEnv: { ...process.env, ORCH_TEST_SECRET: 'hunter2' } }));
    expect(outcome).toMatchObject({ exitCode: 3, timedOut: false, spawnError: null });
    expect(outcome.output).toContain(realpathSync(repo));
    expect(outcome.output).toContain('job=where secret=unset');
    expect(outcome.output).toContain('oops');
    const [event] = await orch.store.listEvents({ types: ['job.fired'] });
    expect(event?.project).toBe('app');
    expect(event?.data).toMatchObject({ name: 'where', kind: 'command', exitCode: 3, timedOut: false, output: expect.stringContaining('job=where') });
    expect((await getJob('where')).lastRunAt).toBe(clock);
  });

  it('runs an argv command without a shell', async () => {
    await addJob(orch, { name: 'argv', project: 'app', schedule: '0 * * * *', kind: 'command', spec: { command: ['git', 'log', '--format=%s'] } });
    const outcome = commandOutcome(await runJobNow(orch, 'argv'));
    expect(outcome).toMatchObject({ exitCode: 0, command: 'git log --format=%s' });
    expect(outcome.output.trim()).toBe('initial commit');
  });

  it('stops a command at its timeout', async () => {
    await addJob(orch, { name: 'slow', project: 'app', schedule: '0 * * * *', kind: 'command', spec: { command: { shell: 'echo started; sleep 30; echo never' }, timeout_s: 0.5 } });
    const outcome = commandOutcome(await runJobNow(orch, 'slow'));
    expect(outcome.timedOut).toBe(true);
    expect(outcome.exitCode).toBeNull();
    expect(outcome.output).toContain('started');
    expect(outcome.output).not.toContain('never');
    expect(outcome.durationMs).toBeLessThan(10_000);
    expect((await eventsOf('job.fired'))[0]).toMatchObject({ timedOut: true });
  });

  it('refuses to run for a project without a repository', async () => {
    await orch.store.addJob({ name: 'nowhere', project: 'remote', schedule: '0 * * * *', kind: 'command', spec: { command: ['ls'] } }, clock);
    const error = await refusal(runJobNow(orch, 'nowhere'));
    expect(error.message).toBe('project "remote" has no local repository: a command job runs in one');
    expect(await eventsOf('job.failed')).toHaveLength(1);
  });
});

describe('JobScheduler', () => {
  it('fires an enabled job on a seconds schedule, and nothing after stop()', async () => {
    await addJob(orch, { name: 'tick', project: 'app', schedule: '* * * * * *', kind: 'task', spec: { title: 'Tick {n}' } });
    await addJob(orch, { name: 'off', project: 'app', schedule: '* * * * * *', kind: 'task', spec: { title: 'Never' }, enabled: false });
    const notices: JobNotice[] = [];
    const jobs = scheduler({ onNotice: (n) => notices.push(n) });
    await jobs.start();
    expect(jobs.scheduled).toEqual(['tick']);
    await until(async () => (await orch.store.listTasks()).length > 0, 2500);
    await jobs.stop();
    expect(jobs.scheduled).toEqual([]);
    const fired = (await eventsOf('job.fired')).length;
    expect(fired).toBeGreaterThan(0);
    expect(notices[0]).toMatchObject({ type: 'fired', job: 'tick', outcome: { kind: 'task' } });
    expect((await orch.store.listTasks()).map((t) => t.title)).not.toContain('Never');
    await sleep(1500);
    expect(await eventsOf('job.fired')).toHaveLength(fired);
  });

  it('skips a tick while the previous run of the same job still runs', async () => {
    await addJob(orch, { name: 'sleepy', project: 'app', schedule: '* * * * * *', kind: 'command', spec: { command: ['sleep', '2.5'] } });
    const jobs = scheduler();
    await jobs.start();
    await until(async () => (await eventsOf('job.skipped')).length >= 1, 6000);
    await jobs.stop();
    // stop() waited for the run under way, so its outcome is on record and nothing runs now.
    const fired = await eventsOf('job.fired');
    expect(fired.length).toBeGreaterThanOrEqual(1);
    expect(fired[0]).toMatchObject({ name: 'sleepy', exitCode: 0 });
    expect((await eventsOf('job.skipped'))[0]).toMatchObject({ name: 'sleepy', reason: 'its previous run is still running' });
    await sleep(1200);
    expect(await eventsOf('job.fired')).toHaveLength(fired.length);
  });

  it('reload() follows added, disabled, re-enabled, removed and re-timed jobs', async () => {
    const jobs = scheduler();
    await jobs.reload(); // before start: nothing is scheduled
    await addJob(orch, { name: 'a', project: 'app', schedule: '0 3 * * *', kind: 'task', spec: { title: 'A' } });
    expect(jobs.scheduled).toEqual([]);
    await jobs.start();
    expect(jobs.scheduled).toEqual(['a']);

    await addJob(orch, { name: 'b', project: 'app', schedule: '0 4 * * *', kind: 'task', spec: { title: 'B' } });
    await jobs.reload();
    expect(jobs.scheduled).toEqual(['a', 'b']);

    await setJobEnabled(orch, 'a', false);
    await jobs.reload();
    expect(jobs.scheduled).toEqual(['b']);
    await setJobEnabled(orch, 'a', true);
    await removeJob(orch, 'b');
    await jobs.reload();
    expect(jobs.scheduled).toEqual(['a']);

    // A new schedule under the same name takes effect: it now fires every second.
    await removeJob(orch, 'a');
    await addJob(orch, { name: 'a', project: 'app', schedule: '* * * * * *', kind: 'task', spec: { title: 'A fast' } });
    await Promise.all([jobs.reload(), jobs.reload()]);
    expect(jobs.scheduled).toEqual(['a']);
    await until(async () => (await orch.store.listTasks()).some((t) => t.title === 'A fast'), 2500);
    await jobs.stop();
    await jobs.reload(); // after stop: stays stopped
    expect(jobs.scheduled).toEqual([]);
  });

  it('turns errors inside a job into job.failed events and keeps going', async () => {
    await orch.store.addJob({ name: 'broken', project: 'app', schedule: '* * * * * *', kind: 'task', spec: { title: 'x', agent: 'ghost' } }, clock);
    const notices: JobNotice[] = [];
    const jobs = scheduler({
      onNotice: (n) => {
        notices.push(n);
        throw new Error('a listener that throws is ignored');
      },
    });
    await jobs.start();
    await until(async () => (await eventsOf('job.failed')).length >= 2, 3500);
    await jobs.stop();
    expect((await eventsOf('job.failed'))[0]).toMatchObject({ name: 'broken', trigger: 'schedule', error: expect.stringMatching(/agent "ghost"/) });
    expect(notices.filter((n) => n.type === 'failed').length).toBeGreaterThanOrEqual(2);
    expect(await orch.store.listTasks()).toEqual([]);
  });

  it('reports a reload that cannot read the jobs instead of rejecting, and keeps its timers', async () => {
    await addJob(orch, { name: 'kept', project: 'app', schedule: '0 3 * * *', kind: 'task', spec: { title: 'Kept' } });
    const notices: JobNotice[] = [];
    const jobs = scheduler({ onNotice: (n) => notices.push(n) });
    await jobs.start();
    const listJobs = orch.store.listJobs.bind(orch.store);
    orch.store.listJobs = () => Promise.reject(new Error('database is locked'));
    try {
      await expect(jobs.reload()).resolves.toBeUndefined();
    } finally {
      orch.store.listJobs = listJobs;
    }
    expect(notices).toEqual([{ type: 'failed', job: null, error: 'cannot reload jobs: database is locked' }]);
    expect(jobs.scheduled).toEqual(['kept']);
  });
});
