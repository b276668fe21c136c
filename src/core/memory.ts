// Memory across attempts: a short record of what each earlier attempt tried and why it did not land,
// read from its run, and kept short enough to sit in the next prompt (and the planner's input)
// without drowning what is asked now.

/** What one finished run of a task left behind, in a person's words. */
export interface AttemptRecord {
  attempt: number;
  /** The run's outcome (`succeeded`, `failed`, `timed_out`, …). */
  outcome: string;
  /** Why the run ended as it did (the supervisor's reason). */
  reason: string;
  /** What the agent said it did: its result block's summary. */
  summary: string | null;
  /** What went wrong after the agent: the judge's findings, a merge or hook failure. */
  failure: string | null;
}

export interface MemoryLimits {
  /** Characters of one attempt's line. */
  perAttempt: number;
  /** Characters of all lines together; the oldest attempts give way first. */
  total: number;
}

/** For an attempt's own prompt: enough to avoid the same mistake, never a wall of logs. */
export const PROMPT_MEMORY: MemoryLimits = { perAttempt: 500, total: 2000 };
/** For the planner, which reads the memory of several tasks at once. */
export const PLANNER_MEMORY: MemoryLimits = { perAttempt: 300, total: 900 };

/** The record of a finished run, from the fields Orch stores in its result (unknown shapes tolerated). */
export function attemptRecordOf(run: { attempt: number; outcome: string | null; result: unknown }): AttemptRecord {
  const result = isRecord(run.result) ? run.result : {};
  const contract = isRecord(result.contract) ? result.contract : {};
  return {
    attempt: run.attempt,
    outcome: run.outcome ?? 'unfinished',
    reason: stringOrNull(result.reason) ?? 'no reason recorded',
    summary: stringOrNull(contract.summary),
    failure: stringOrNull(result.failure),
  };
}

/**
 * One line per attempt, oldest first, each at most `perAttempt` characters and all of them at most
 * `total`: when they do not fit, the oldest are left out and a first line says how many.
 */
export function rememberAttempts(records: readonly AttemptRecord[], limits: MemoryLimits = PROMPT_MEMORY): string[] {
  const lines = records.map((record) => clip(describeAttempt(record), limits.perAttempt));
  const kept: string[] = [];
  let used = 0;
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    // Room is kept for the note saying that older attempts were left out.
    const reserve = i > 0 ? OMITTED_NOTE_ROOM : 0;
    if (used + line.length + 1 + reserve > limits.total && kept.length > 0) break;
    kept.unshift(line);
    used += line.length + 1;
  }
  const omitted = lines.length - kept.length;
  if (omitted > 0) kept.unshift(`(${omitted} earlier attempt${omitted === 1 ? '' : 's'} left out)`);
  return kept;
}

const OMITTED_NOTE_ROOM = 32;

function describeAttempt(record: AttemptRecord): string {
  const parts = [`Attempt ${record.attempt} ended ${record.outcome}: ${oneLine(record.reason)}`];
  if (record.summary) parts.push(`it tried: ${oneLine(record.summary)}`);
  if (record.failure) parts.push(`what went wrong: ${condenseFailure(record.failure)}`);
  return parts.join(' — ');
}

/**
 * A failure as one line: the judge's text holds indented output in fences, of which only the named
 * checks and the last lines of output matter here.
 */
function condenseFailure(failure: string): string {
  const lines = failure
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !/^(`{3,}|~{3,})/.test(line));
  return oneLine(lines.join(' | '));
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();

/** At most `max` characters, cut at a word where one is near and marked with an ellipsis. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, Math.max(0, max - 1));
  const space = cut.lastIndexOf(' ');
  return `${space > max * 0.7 ? cut.slice(0, space) : cut}…`;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const stringOrNull = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value : null);
