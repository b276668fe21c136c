// Every failure leaves the server as `{"error": {"code", "message"}}` with one line of message and the
// status its kind implies; a stack trace never does. The codes are the CLI's (cli/output.ts), so a
// script handles both faces alike, plus `unauthorized` and `forbidden`, which only HTTP has.

import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { describeFailure, type Failure } from '../cli/output.js';

export type HttpErrorCode = Failure['code'] | 'unauthorized' | 'forbidden';

/**
 * The status of each kind of failure. `config` and `failure` are the server's own fault (a broken
 * config.yaml, a bug), hence 5xx; `not_initialised` means the server cannot serve yet, hence 503.
 */
export const STATUS_BY_CODE = {
  invalid_input: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  already_claimed: 409,
  config: 500,
  failure: 500,
  not_initialised: 503,
} as const satisfies Record<HttpErrorCode, ContentfulStatusCode>;

export function errorResponse(c: Context, code: HttpErrorCode, message: string, status: ContentfulStatusCode = STATUS_BY_CODE[code]): Response {
  return c.json({ error: { code, message } }, status);
}

/** Hono's onError: whatever was thrown becomes a JSON error of its kind. */
export function respondToError(error: unknown, c: Context): Response {
  // Hono's own refusals (a body over the limit, say) already carry their status.
  if (error instanceof HTTPException) return errorResponse(c, codeForStatus(error.status), error.message || 'request refused', error.status as ContentfulStatusCode);
  const { code, message } = describeFailure(error);
  return errorResponse(c, code, message);
}

export function respondNotFound(c: Context): Response {
  return errorResponse(c, 'not_found', `no route for ${c.req.method} ${c.req.path}`);
}

function codeForStatus(status: number): HttpErrorCode {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 409) return 'conflict';
  return status < 500 ? 'invalid_input' : 'failure';
}
