import { ConfigError } from '../config/errors.js';
import { OrchError, type ErrorCode } from '../core/errors.js';
import { IllegalTransitionError } from '../core/lifecycle.js';
import { AlreadyExistsError, NotFoundError, StaleFenceError, VersionConflictError } from '../store/store.js';
export interface Failure {
  code: ErrorCode | 'failure';
  message: string;
}

/** Names any error the way a person can act on it: a code and one line. */
export function describeFailure(error: unknown): Failure {
  const oneLine = (text: string) => text.split('\n')[0]!.trim();
  if (error instanceof OrchError) return { code: error.code, message: oneLine(error.message) };
  if (error instanceof ConfigError) return { code: 'config', message: oneLine(error.message) };
  if (error instanceof NotFoundError) return { code: 'not_found', message: oneLine(error.message) };
  if (error instanceof IllegalTransitionError || error instanceof AlreadyExistsError || error instanceof VersionConflictError || error instanceof StaleFenceError) {
    return { code: 'conflict', message: oneLine(error.message) };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'failure', message: oneLine(message) };
}

/**
 * Control characters other than newline and tab — C0, DEL and C1 — as `\xNN`. Text from outside (a
 * tracker issue's title, an agent's output) reaches the terminal through the human output, and raw,
 * an ESC or a BEL would clear the screen, move the cursor, retitle the window or ring the bell.
 */
export function showControls(text: string): string {
  return text.replace(CONTROL_CHARACTERS, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** Writes one line of human text to stdout, control characters shown escaped. */
export function say(line: string): void {
  process.stdout.write(`${showControls(line)}\n`);
}

export interface Output {
  json: boolean;
  /** Prints `data` as JSON (exact: JSON escapes control characters itself), or the human text. */
  emit(data: unknown, human: () => string): void;
}

export function makeOutput(json: boolean): Output {
  return {
    json,
    emit(data, human) {
      if (json) process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
      else say(human());
    },
  };
}

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function table(rows: string[][], header?: string[]): string {
  // Escaped before measuring, so a control character in a cell does not shift the columns.
  const all = (header ? [header, ...rows] : rows).map((row) => row.map(showControls));
  if (all.length === 0) return '';
  const widths = all[0]!.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  return all.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

/** "in 3m", "5s ago": times relative to now, as a person reads them in a terminal. */
export function relativeTime(at: number, now: number): string {
  const seconds = Math.round((at - now) / 1000);
  const abs = Math.abs(seconds);
  const text = abs < 60 ? `${abs}s` : abs < 3600 ? `${Math.round(abs / 60)}m` : abs < 86_400 ? `${Math.round(abs / 3600)}h` : `${Math.round(abs / 86_400)}d`;
  return seconds >= 0 ? `in ${text}` : `${text} ago`;
}
