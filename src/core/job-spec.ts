// What a job does when its schedule fires, as stored in the `spec` of a Job: a `task` job adds a task
// whose title and body are templates; a `command` job runs a command from the job's own config. The
// two never mix: a task spec has no command key, and a command spec is never templated, so nothing
// a template produces (or any task text) can reach a program's argv or a shell.

import { z } from 'zod';
import { OrchError } from './errors.js';
import { configErrorMap, expecting, formatIssues } from './schema-messages.js';
import { MAX_LABEL_CHARS as MAX_LABEL, MAX_TITLE_CHARS as MAX_TITLE } from './task-limits.js';
import { ROLES, type EpochMs, type Job } from './types.js';
import { commandSchema, nameSchema } from './value-schemas.js';

export type JobKind = Job['kind'];
export const JOB_KINDS = ['task', 'command'] as const satisfies readonly JobKind[];

/** Same rule as project names: job names appear in URLs, events and the command line. */
const JOB_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** A command job's limit when the spec names none. */
export const DEFAULT_JOB_TIMEOUT_S = 600;
/** Node timers overflow past ~24.8 days (and then fire at once); a day is plenty for a scheduled command. */
const MAX_JOB_TIMEOUT_S = 86_400;

// The limits `addTask` applies, checked here too so a bad template is refused when the job is added.
const isOneLine = (text: string, max: number) => text.trim() !== '' && text.length <= max && !/[\r\n\0]/.test(text);

export const taskJobSpecSchema = z.strictObject({
  title: expecting(
    z.string().refine((title) => isOneLine(title, MAX_TITLE)),
    `a one-line title of at most ${MAX_TITLE} characters`,
  ),
  body: expecting(z.string(), 'text').optional(),
  labels: expecting(
    z.array(expecting(z.string().refine((label) => isOneLine(label, MAX_LABEL)), `a one-line label of at most ${MAX_LABEL} characters`)),
    'a list of labels',
  ).optional(),
  priority: expecting(z.int(), 'a whole number').optional(),
  role: z.enum(ROLES).optional(),
  /** Routes the task to this agent instead of the project's first. */
  agent: nameSchema.nullable().optional(),
});
export type TaskJobSpec = z.infer<typeof taskJobSpecSchema>;

export const commandJobSpecSchema = z.strictObject({
  command: commandSchema,
  timeout_s: expecting(
    z.number().positive().max(MAX_JOB_TIMEOUT_S),
    `a number of seconds > 0 and at most ${MAX_JOB_TIMEOUT_S}`,
  ).optional(),
});
export type CommandJobSpec = z.infer<typeof commandJobSpecSchema>;

export type JobDefinition = { kind: 'task'; spec: TaskJobSpec } | { kind: 'command'; spec: CommandJobSpec };

/** Refuses a job name that could not be a plain identifier. */
export function checkJobName(name: string): void {
  if (!JOB_NAME.test(name)) {
    throw new OrchError(
      'invalid_input',
      `job name "${name}" must be lowercase letters, digits, ".", "_" or "-", starting with a letter or digit (at most 64)`,
    );
  }
}

/** Checks a job's kind and spec; a failure is one line naming the field, e.g. `task job: title: …`. */
export function parseJobSpec(kind: string, spec: unknown): JobDefinition {
  if (kind === 'task') return { kind, spec: parseWith(taskJobSpecSchema, kind, spec) };
  if (kind === 'command') return { kind, spec: parseWith(commandJobSpecSchema, kind, spec) };
  throw new OrchError('invalid_input', `unknown job kind "${kind}": use ${JOB_KINDS.join(' or ')}`);
}

function parseWith<T extends z.ZodType>(schema: T, kind: JobKind, spec: unknown): z.infer<T> {
  const result = schema.safeParse(spec, { error: configErrorMap });
  if (!result.success) throw new OrchError('invalid_input', `${kind} job: ${formatIssues(result.error.issues)}`);
  return result.data;
}

export type TemplateVars = Readonly<Record<string, string | number>>;

/**
 * Replaces each `{name}` whose name is in `vars`; any other `{…}` stays as written. One pass over
 * the template: a value that itself contains `{date}` is not expanded again.
 */
export function renderTemplate(template: string, vars: TemplateVars): string {
  return template.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) =>
    // Own keys only, so `{constructor}` or `{toString}` stay text.
    Object.hasOwn(vars, name) ? String(vars[name]) : whole,
  );
}

/** The variables a job's templates see when it fires at `now`, having run `runs` times before. */
export function jobTemplateVars(job: string, runs: number, now: EpochMs): TemplateVars {
  return { ...utcDateTime(now), job, n: runs + 1 };
}

const DAY_MS = 86_400_000;
const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/**
 * `YYYY-MM-DD` and `HH:MM` of an instant in UTC. Computed from the epoch (proleptic Gregorian
 * calendar, H. Hinnant's civil-from-days) because the core reads no `Date`.
 */
export function utcDateTime(at: EpochMs): { date: string; time: string } {
  const days = Math.floor(at / DAY_MS);
  const minuteOfDay = Math.floor((at - days * DAY_MS) / 60_000);
  const shifted = days + 719_468; // days since 0000-03-01
  const era = Math.floor(shifted / 146_097);
  const dayOfEra = shifted - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1;
  const month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return {
    date: `${pad(year, 4)}-${pad(month)}-${pad(day)}`,
    time: `${pad(Math.floor(minuteOfDay / 60))}:${pad(minuteOfDay % 60)}`,
  };
}
