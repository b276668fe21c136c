import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { errorResponse } from './http-errors.js';

// Both sides are hashed first: timingSafeEqual needs buffers of equal length, and comparing digests
// keeps the token's length from leaking through an early return as well.
const digest = (text: string) => createHash('sha256').update(text).digest();

/** Whether `presented` is the token, in time that does not depend on where they differ. */
export function tokenMatches(presented: string, token: string): boolean {
  return timingSafeEqual(digest(presented), digest(token));
}

/** The token of an `Authorization: Bearer <token>` header (the scheme is case-insensitive). */
export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  return match ? match[1]! : null;
}

/** Refuses every request that does not present the API token, with 401 and a JSON error. */
export function requireBearerToken(token: string): MiddlewareHandler {
  return async (c, next) => {
    const presented = bearerToken(c.req.header('Authorization'));
    if (presented === null || !tokenMatches(presented, token)) {
      c.header('WWW-Authenticate', 'Bearer realm="orch"');
      const message = presented === null ? 'send the API token as "Authorization: Bearer <token>" (it is in $ORCH_HOME/token)' : 'the API token is wrong';
      return errorResponse(c, 'unauthorized', message);
    }
    await next();
  };
}
