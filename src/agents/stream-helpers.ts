// What every CLI's line parser needs: reading JSON lines that may hold anything, and telling a rate
// limit from an outage from a bad key in the error texts CLIs print.

import type { AgentErrorKind, AgentEvent } from './agent.js';

export type JsonObject = Record<string, unknown>;

/** The line as a JSON object, or null when it is not one (plain text, an array, broken JSON). */
export function parseJsonObject(line: string): JsonObject | null {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return null;
  try {
    return asObject(JSON.parse(trimmed));
  } catch {
    return null;
  }
}

export const asObject = (value: unknown): JsonObject | null =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : null;

export const stringField = (object: JsonObject | null, key: string): string | null => {
  const value = object?.[key];
  return typeof value === 'string' ? value : null;
};

export const numberField = (object: JsonObject | null, key: string): number | null => {
  const value = object?.[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
};

/** A token count: a finite number >= 0, else 0 (CLIs omit counts they do not have). */
export const countField = (object: JsonObject | null, key: string): number => Math.max(0, numberField(object, key) ?? 0);

export const objectField = (object: JsonObject | null, key: string): JsonObject | null => asObject(object?.[key]);

export const arrayField = (object: JsonObject | null, key: string): unknown[] => {
  const value = object?.[key];
  return Array.isArray(value) ? value : [];
};

export const unparsed = (line: string): AgentEvent => ({ type: 'unparsed', line });

/**
 * Wraps a line parser so that it never throws: a line it chokes on is kept as `unparsed`. CLIs change
 * their output between versions; a surprise must cost one line of understanding, never the run.
 */
export function tolerant(parse: (line: string) => AgentEvent[]): (line: string) => AgentEvent[] {
  return (line) => {
    if (line.trim() === '') return [];
    try {
      return parse(line);
    } catch {
      return [unparsed(line)];
    }
  };
}

// ---------------------------------------------------------------- API failures

export interface ApiFailure {
  kind: AgentErrorKind;
  status: number | null;
}

const STATUS_PATTERNS = [
  /API Error:?\s*(\d{3})\b/i,
  /\bstatus(?:\s*code)?[\s:=]+(\d{3})\b/i,
  /\bHTTP\s*(\d{3})\b/i,
  // "Request rejected (429)": a bare number in parentheses counts only as an HTTP error status.
  /\(([45]\d\d)\)/,
];
const RATE_LIMIT_TEXT = /rate[ _-]?limit|too many requests|resource[ _]exhausted|quota exceeded/i;
const AUTH_TEXT = /invalid[ _-]?(x-)?api[ _-]?key|authentication[ _]?(error|failed)|unauthori[sz]ed/i;
const OUTAGE_TEXT =
  /overloaded|server[ _]error|internal error|service unavailable|bad gateway|high demand|unable to connect|connection (failed|refused)|ECONNREFUSED|ETIMEDOUT|fetch failed/i;

/** The HTTP status an error text names, if it names one in a recognizable way. */
export function statusInText(text: string): number | null {
  for (const pattern of STATUS_PATTERNS) {
    const match = pattern.exec(text);
    if (match) return Number(match[1]);
  }
  return null;
}

/** What kind of failure an error message (and its HTTP status, when known) describes. */
export function classifyApiFailure(message: string, knownStatus: number | null): ApiFailure {
  const status = knownStatus ?? statusInText(message);
  if (status === 429 || RATE_LIMIT_TEXT.test(message)) return { kind: 'rate_limit', status };
  if (status === 401 || status === 403 || AUTH_TEXT.test(message)) return { kind: 'auth', status };
  if ((status !== null && status >= 400) || OUTAGE_TEXT.test(message)) return { kind: 'api', status };
  return { kind: 'other', status };
}

/**
 * The events for a failure message: an `error`, preceded by a `rate_limit` when it is one, so the
 * supervisor can cool the agent down without reading error kinds.
 */
export function failureEvents(message: string, knownStatus: number | null, retryAfterMs: number | null = null): AgentEvent[] {
  const { kind, status } = classifyApiFailure(message, knownStatus);
  const error: AgentEvent = { type: 'error', kind, message, status };
  return kind === 'rate_limit' ? [{ type: 'rate_limit', message, retryAfterMs }, error] : [error];
}
