import type { Command } from 'commander';
import { OrchError } from '../../core/errors.js';
import type { Role } from '../../core/types.js';
import { projectForDirectory } from '../../engine/projects.js';
import { addJob, outcomeSucceeded, listJobs, removeJob, runJobNow, setJobEnabled, type JobInfo, type JobOutcome } from '../../engine/jobs.js';
import { collect, parsePriority, parseRole, parseSeconds } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { relativeTime, table } from '../output.js';
import { command } from '../run.js';

interface AddOptions {
  project?: string;
  schedule: string;
  task?: string;
  body?: string;
  label?: string[];
  priority?: number;
  role?: Role;
  agent?: string;
  command?: string[] | true;
  shell?: string;
  timeout?: number;
  disabled?: boolean;
}


/**
 * The options of `job add` → the job's kind and spec. Options of the other kind are refused, not
 * ignored. `rest` is what followed `--`: the argv of `--command` when its arguments start with "-".
 */
function specFrom(options: AddOptions, rest: string[]): { kind: 'task' | 'command'; spec: Record<string, unknown> } {
  if (rest.length > 0 && options.command === undefined) {
    throw new OrchError('invalid_input', `unexpected arguments "${rest.join(' ')}": only --command takes a program and its arguments`);
  }
  const given = [options.task !== undefined && '--task', options.command !== undefined && '--command', options.shell !== undefined && '--shell'].filter(Boolean);
  if (given.length !== 1) throw new OrchError('invalid_input', `give exactly one of --task, --command or --shell${given.length ? ` (got ${given.join(' and ')})` : ''}`);
  if (options.task !== undefined) {
    if (options.timeout !== undefined) throw new OrchError('invalid_input', '--timeout applies to --command and --shell jobs only');
    const { body, label: labels, priority, role, agent } = options;
    return { kind: 'task', spec: dropUndefined({ title: options.task, body, labels, priority, role, agent }) };
  }
  const taskOnly = (['body', 'label', 'priority', 'role', 'agent'] as const).find((key) => options[key] !== undefined);
  if (taskOnly) throw new OrchError('invalid_input', `--${taskOnly} applies to --task jobs only`);
  if (options.shell !== undefined) return { kind: 'command', spec: dropUndefined({ command: { shell: options.shell }, timeout_s: options.timeout }) };
  const argv = [...(options.command === true ? [] : (options.command ?? [])), ...rest];
  if (argv.length === 0) throw new OrchError('invalid_input', '--command needs a program to run, e.g. --command npm test');
  return { kind: 'command', spec: dropUndefined({ command: argv, timeout_s: options.timeout }) };
}

const dropUndefined = (record: Record<string, unknown>) => Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));

function whatItDoes(job: JobInfo): string {
  const spec = job.spec as { title?: string; command?: string[] | { shell: string } };
  if (job.kind === 'task') return `task "${spec.title ?? ''}"`;
  return Array.isArray(spec.command) ? spec.command.join(' ') : `sh -c ${JSON.stringify(spec.command?.shell ?? '')}`;
}

/** A schedule with a seconds field fires within a minute: its times are shown to the second, not rounded. */
const hasSeconds = (schedule: string) => schedule.trim().split(/\s+/).length === 6;

const timeText = (at: number | null, now: number, none: string, seconds = false) =>
  at === null ? none : `${new Date(at).toISOString().slice(0, seconds ? 19 : 16).replace('T', ' ')}Z (${relativeTime(at, now)})`;

function jobRows(jobs: JobInfo[], now: number): string {
  if (jobs.length === 0) return 'No jobs. Add one with `orch job add <name> --schedule "<cron>" --task "<title>"`.';
  return table(
    jobs.map((j) => [j.name, j.project, j.schedule, j.kind, j.enabled ? 'yes' : 'no', timeText(j.lastRunAt, now, 'never', hasSeconds(j.schedule)), timeText(j.nextRunAt, now, '-', hasSeconds(j.schedule)), whatItDoes(j)]),
    ['NAME', 'PROJECT', 'SCHEDULE (UTC)', 'KIND', 'ENABLED', 'LAST RUN', 'NEXT RUN', 'DOES'],
  );
}

function outcomeText(name: string, outcome: JobOutcome): string {
  if (outcome.kind === 'task') {
    const routed = outcome.agent ? ` for ${outcome.agent}` : outcome.agentNotSet ? ` (agent not set: ${outcome.agentNotSet})` : '';
    return `Fired ${name}: added task #${outcome.taskId}${routed}: ${outcome.title}`;
  }
  const seconds = `${(outcome.durationMs / 1000).toFixed(1)}s`;
  const ended = outcome.spawnError
    ? `could not start: ${outcome.spawnError}`
    : outcome.timedOut
      ? `timed out after ${seconds}`
      : outcome.exitCode !== null
        ? `exit ${outcome.exitCode} after ${seconds}`
        : `killed by ${outcome.signal} after ${seconds}`;
  const lines = outcome.output.trimEnd().split('\n').slice(-20);
  const output = outcome.output.trim() ? `\n${lines.map((line) => `  ${line}`).join('\n')}` : '';
  return `Fired ${name}: ${outcome.command}: ${ended}${output}`;
}

export function registerJobCommands(program: Command): Command {
  const job = program.command('job').description('cron schedules that add a task or run a command');

  job
    .command('add')
    .description('add a job: on its schedule it adds a task (--task) or runs a command (--command / --shell)')
    .argument('<name>', 'job name: lowercase letters, digits, ".", "_" or "-"')
    .argument('[argv...]', 'with --command: a program and arguments after --, when some start with "-"')
    .requiredOption('-s, --schedule <cron>', 'cron expression in UTC: 5 fields (minute hour day month weekday) or 6 (seconds first)')
    .option('-p, --project <name>', 'project (default: the one holding the current directory, or the only one)')
    .option('--task <title>', 'add a task with this title; {date}, {time}, {job} and {n} are filled in')
    .option('-b, --body <text>', 'task body (a template too)')
    .option('-l, --label <label>', 'task label (repeatable, or comma-separated)', collect)
    .option('--priority <n>', 'task priority: whole number or low|normal|high|urgent', parsePriority)
    .option('--role <role>', 'task role: implement|test|review|plan|fix', parseRole)
    .option('--agent <name>', 'route the task to this agent')
    .option('--command [argv...]', 'run this program with these arguments in the repository, no shell (--command -- git status --short)')
    .option('--shell <script>', 'run this script with sh -c in the repository')
    .option('--timeout <s>', 'stop the command after this many seconds (default 600)', parseSeconds)
    .option('--disabled', 'add it disabled (enable with `orch job enable`)')
    .option('--json', 'print JSON')
    .action(
      command(async (io, name: string, rest: string[], options: AddOptions) => {
        const { kind, spec } = specFrom(options, rest);
        const orch = await io.orch();
        const project = options.project ?? (await projectForDirectory(orch, process.cwd()));
        const added = await addJob(orch, { name, project, schedule: options.schedule, kind, spec, enabled: !options.disabled });
        io.out.emit(added, () => `Added job ${added.name} to ${added.project} (${added.schedule} UTC): ${whatItDoes(added)}; ${added.enabled ? `next run ${timeText(added.nextRunAt, orch.now(), '-', hasSeconds(added.schedule))}` : 'disabled'}`);
      }),
    );

  job
    .command('list')
    .description('list jobs with their last and next runs')
    .option('-p, --project <name>', 'only this project')
    .option('--json', 'print JSON')
    .action(
      command(async (io, options: { project?: string }) => {
        const orch = await io.orch();
        const jobs = await listJobs(orch, options);
        io.out.emit(jobs, () => jobRows(jobs, orch.now()));
      }),
    );

  job
    .command('remove')
    .description('remove a job (its history stays in the event log)')
    .argument('<name>')
    .option('--json', 'print JSON')
    .action(
      command(async (io, name: string) => {
        const orch = await io.orch();
        await removeJob(orch, name);
        io.out.emit({ removed: name }, () => `Removed job ${name}`);
      }),
    );

  for (const [verb, enabled] of [['enable', true], ['disable', false]] as const) {
    job
      .command(verb)
      .description(enabled ? 'let a job fire on its schedule again' : 'stop a job firing (it stays, and `orch job run` still works)')
      .argument('<name>')
      .option('--json', 'print JSON')
      .action(
        command(async (io, name: string) => {
          const orch = await io.orch();
          const changed = await setJobEnabled(orch, name, enabled);
          io.out.emit(changed, () => `${enabled ? 'Enabled' : 'Disabled'} job ${name}${enabled ? `; next run ${timeText(changed.nextRunAt, orch.now(), '-', hasSeconds(changed.schedule))}` : ''}`);
        }),
      );
  }

  job
    .command('run')
    .description('fire a job now, in the foreground, and print what happened (exit 1 when its command fails)')
    .argument('<name>')
    .option('--json', 'print JSON')
    .action(
      command(async (io, name: string) => {
        const orch = await io.orch();
        const outcome = await runJobNow(orch, name);
        io.out.emit({ job: name, ...outcome }, () => outcomeText(name, outcome));
        if (!outcomeSucceeded(outcome)) process.exitCode = EXIT.failure;
      }),
    );
  return job;
}
