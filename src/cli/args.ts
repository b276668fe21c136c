import { InvalidArgumentError } from 'commander';
import { HOST_NAME_PATTERN } from '../core/hosts.js';
import { ROLES, type Role } from '../core/types.js';

/** A task id as typed: `12` or `#12`; plain decimal digits only, so `0x1`, `1e1` or `1.0` are refused. */
export function parseTaskId(value: string): number {
  const id = /^#?\d+$/.test(value) ? Number(value.replace(/^#/, '')) : Number.NaN;
  if (!Number.isSafeInteger(id) || id <= 0) throw new InvalidArgumentError(`"${value}" is not a task id (a whole number such as 12)`);
  return id;
}

/** Comma-separated task ids; repeatable options collect into one list. */
export function collectTaskIds(value: string, previous: number[] = []): number[] {
  const ids = value.split(',').map((part) => part.trim()).filter(Boolean).map(parseTaskId);
  if (ids.length === 0) throw new InvalidArgumentError('give at least one task id');
  return [...previous, ...ids];
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((part) => part.trim()).filter(Boolean)];
}

export const PRIORITY_NAMES: Record<string, number> = { low: -1, normal: 0, high: 1, urgent: 2 };

/** A priority as a whole number (higher runs first) or a name: low, normal, high, urgent. */
export function parsePriority(value: string): number {
  const named = PRIORITY_NAMES[value.toLowerCase()];
  if (named !== undefined) return named;
  const n = /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`"${value}" is not a priority: use a whole number or low, normal, high, urgent`);
  return n;
}

export function parseRole(value: string): Role {
  if (!(ROLES as readonly string[]).includes(value)) throw new InvalidArgumentError(`"${value}" is not a role: use one of ${ROLES.join(', ')}`);
  return value as Role;
}

/** A daemon's name among the hosts sharing a store. */
export function parseHostName(value: string): string {
  if (!HOST_NAME_PATTERN.test(value)) throw new InvalidArgumentError(`"${value}" is not a host name: use letters, digits, dots, dashes and underscores (at most 63)`);
  return value;
}

/** A TCP port, 0 to 65535 (0 lets the system pick a free one). */
export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(port) || port > 65535) throw new InvalidArgumentError(`"${value}" is not a port number (0 to 65535)`);
  return port;
}

/** A decimal number such as `30` or `2.5`: what a person types; `0x1e`, `1e3`, `Infinity` and blanks are not. */
const DECIMAL = /^\d+(\.\d+)?$/;

/** A number of seconds greater than 0. */
export function parseSeconds(value: string): number {
  if (!DECIMAL.test(value) || !(Number(value) > 0)) throw new InvalidArgumentError(`"${value}" is not a number of seconds (such as 30)`);
  return Number(value);
}

/** A number of seconds, 0 included. */
export function parseSecondsOrZero(value: string): number {
  if (!DECIMAL.test(value)) throw new InvalidArgumentError(`"${value}" is not a number of seconds (such as 30, or 0)`);
  return Number(value);
}

/** A number of days greater than 0. */
export function parseDays(value: string): number {
  if (!DECIMAL.test(value) || !(Number(value) > 0)) throw new InvalidArgumentError(`"${value}" is not a number of days (such as 7)`);
  return Number(value);
}

/** How many rows to show: a whole number of at least 1. */
export function parseLimit(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`"${value}" is not a number of rows (a whole number such as 100)`);
  return n;
}
