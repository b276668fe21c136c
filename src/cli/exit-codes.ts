import type { ErrorCode } from '../core/errors.js';

/** Exit codes: scripts can tell a typo from a missing task from a refused move. */
export const EXIT = {
  ok: 0,
  failure: 1,
  invalid_input: 2,
  not_found: 3,
  conflict: 4,
  config: 5,
  not_initialised: 5,
  already_claimed: 6,
} as const satisfies Record<ErrorCode | 'ok' | 'failure', number>;
