// How a run ended, in Orch's words: one of the nine run outcomes and a sentence saying why.
// The supervisor knows the process side (exit code, signal, whether it killed the run itself); the
// agent's events say what the CLI reported. Both are folded here, so every adapter and every way of
// ending lands on the same outcome.

import type { RunOutcome } from './types.js';

/** Why the supervisor ended a run itself, if it did. */
export type KillReason = 'timeout' | 'stall' | 'budget' | 'cancel' | 'output_limit';

export type AgentErrorKind = 'api' | 'auth' | 'max_turns' | 'budget' | 'rate_limit' | 'other';

/** The CLI's own final word. */
export interface ReportedResult {
  ok: boolean;
  subtype: string | null;
  text: string | null;
}

export interface ReportedError {
  kind: AgentErrorKind;
  message: string;
  /** HTTP status of the failing API call, when the CLI said. */
  status: number | null;
}

/** What a run's events said, folded small enough to keep while the run streams. */
export interface RunEventSummary {
  result: ReportedResult | null;
  /** The most recent error the CLI reported (errors are often retried, so only the last counts). */
  lastError: ReportedError | null;
  /** The CLI stopped at its own spending cap. */
  budgetError: ReportedError | null;
  /** The most recent rate-limit notice. */
  rateLimit: { message: string } | null;
}

export interface RunEnd {
  exitCode: number | null;
  signal: string | null;
  killedFor: KillReason | null;
  events: RunEventSummary;
  /**
   * Whether this CLI ends every finished run with a result event. When it does not (a plain command),
   * exit 0 alone means success.
   */
  resultExpected: boolean;
}

export interface RunVerdict {
  outcome: RunOutcome;
  reason: string;
}

// ---------------------------------------------------------------- folding events

export const EMPTY_RUN_SUMMARY: RunEventSummary = { result: null, lastError: null, budgetError: null, rateLimit: null };

interface TaggedEvent {
  readonly type: string;
}
type ResultEvent = { type: 'result' } & ReportedResult;
type ErrorEvent = { type: 'error' } & ReportedError;
type RateLimitEvent = { type: 'rate_limit'; message: string };
/** Any agent event: only `result`, `error` and `rate_limit` matter here, the rest pass by. */
export type OutcomeEvent = ResultEvent | ErrorEvent | RateLimitEvent | TaggedEvent;

const isResult = (event: TaggedEvent): event is ResultEvent => event.type === 'result';
const isError = (event: TaggedEvent): event is ErrorEvent => event.type === 'error';
const isRateLimit = (event: TaggedEvent): event is RateLimitEvent => event.type === 'rate_limit';

/** One more event into the summary (pure: returns a new summary). */
export function addRunEvent(summary: RunEventSummary, event: OutcomeEvent): RunEventSummary {
  if (isResult(event)) {
    return { ...summary, result: { ok: event.ok, subtype: event.subtype, text: event.text } };
  }
  if (isError(event)) {
    const error: ReportedError = { kind: event.kind, message: event.message, status: event.status };
    const rateLimit = isRateLimitError(error) ? { message: error.message } : summary.rateLimit;
    const budgetError = error.kind === 'budget' ? error : summary.budgetError;
    return { ...summary, lastError: error, budgetError, rateLimit };
  }
  if (isRateLimit(event)) return { ...summary, rateLimit: { message: event.message } };
  return summary;
}

export function summarizeRunEvents(events: Iterable<OutcomeEvent>): RunEventSummary {
  let summary = EMPTY_RUN_SUMMARY;
  for (const event of events) summary = addRunEvent(summary, event);
  return summary;
}

const isRateLimitError = (error: ReportedError) => error.kind === 'rate_limit' || error.status === 429;

// ---------------------------------------------------------------- classifying

const KILLED: Record<KillReason, RunVerdict> = {
  timeout: { outcome: 'timed_out', reason: 'stopped by Orch: the run passed its time limit' },
  stall: { outcome: 'stalled', reason: 'stopped by Orch: the agent printed nothing for too long' },
  budget: { outcome: 'budget_exceeded', reason: "stopped by Orch: the run's cost passed its budget" },
  cancel: { outcome: 'cancelled', reason: 'cancelled' },
  output_limit: { outcome: 'output_limit', reason: 'stopped by Orch: the agent printed more than the run may keep (run.max_output_mb)' },
};

/** Signal names for the exit codes a shell (or a CLI's own handler) reports as 128 + signal number. */
const SIGNAL_EXIT_CODES: Record<number, string> = { 129: 'SIGHUP', 130: 'SIGINT', 134: 'SIGABRT', 137: 'SIGKILL', 139: 'SIGSEGV', 143: 'SIGTERM' };

/**
 * The outcome of a finished run. Total: every input gives exactly one of the nine outcomes.
 * Order matters: Orch's own kill wins (it knows why it stopped the run); then a clean success, even
 * after retried rate limits; then the CLI's budget stop and rate limits; then how the process died.
 */
export function classifyRunEnd(end: RunEnd): RunVerdict {
  if (end.killedFor !== null) return KILLED[end.killedFor];
  const { result, lastError, budgetError, rateLimit } = end.events;

  if (end.exitCode === 0 && end.signal === null) {
    if (result?.ok) return { outcome: 'succeeded', reason: 'the agent reported success' };
    if (result === null && !end.resultExpected) return { outcome: 'succeeded', reason: 'the agent exited 0' };
  }
  if (budgetError !== null || result?.subtype === 'error_max_budget_usd') {
    return { outcome: 'budget_exceeded', reason: `the agent stopped at its budget: ${brief(budgetError?.message ?? result?.text ?? 'budget reached')}` };
  }
  if (rateLimit !== null) return { outcome: 'rate_limited', reason: `rate limited: ${brief(rateLimit.message)}` };

  const signal = end.signal ?? (end.exitCode === null ? null : (SIGNAL_EXIT_CODES[end.exitCode] ?? null));
  if (result === null && signal !== null) {
    const how = end.signal !== null ? `killed by ${end.signal}` : `exited ${end.exitCode} (${signal})`;
    return { outcome: 'crashed', reason: `${how} before reporting a result${errorSuffix(lastError)}` };
  }
  if (end.exitCode === null && end.signal === null) {
    return { outcome: 'crashed', reason: 'the process ended without an exit code or signal' };
  }
  return { outcome: 'failed', reason: failureReason(end, result, lastError) };
}

function failureReason(end: RunEnd, result: ReportedResult | null, lastError: ReportedError | null): string {
  const exit = end.signal !== null ? `killed by ${end.signal}` : `exited ${end.exitCode}`;
  if (lastError !== null) return `${exit}: ${describeError(lastError)}`;
  if (result !== null && !result.ok) {
    const what = result.subtype !== null && result.subtype !== 'success' ? result.subtype : 'failure';
    return `${exit}: the agent reported ${what}${result.text ? `: ${brief(result.text)}` : ''}`;
  }
  if (result === null) return `${exit} without a final result`;
  return `${exit} although the agent reported success`;
}

function describeError(error: ReportedError): string {
  switch (error.kind) {
    case 'max_turns':
      return `hit its max-turns limit (${brief(error.message)})`;
    case 'api':
      return `API error${error.status !== null ? ` ${error.status}` : ''}: ${brief(error.message)}`;
    case 'auth':
      return `authentication failed: ${brief(error.message)}`;
    default:
      return brief(error.message);
  }
}

const errorSuffix = (error: ReportedError | null) => (error === null ? '' : `; last error: ${describeError(error)}`);

/** Error texts can be whole API responses: keep reasons to one readable line. */
function brief(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}
