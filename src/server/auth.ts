import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { errorResponse } from './http-errors.js';
import type { SessionSigner } from './session.js';

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

function refuse(c: Context, message: string): Response {
  c.header('WWW-Authenticate', 'Bearer realm="orch"');
  return errorResponse(c, 'unauthorized', message);
}

/** Refuses every request that does not present the API token, with 401 and a JSON error. */
export function requireBearerToken(token: string): MiddlewareHandler {
  return async (c, next) => {
    const presented = bearerToken(c.req.header('Authorization'));
    if (presented === null || !tokenMatches(presented, token)) {
      return refuse(c, presented === null ? 'send the API token as "Authorization: Bearer <token>" (it is in $ORCH_HOME/token)' : 'the API token is wrong');
    }
    await next();
  };
}

/** How a request proved who sent it, if it did. */
export type Credentials = 'token' | 'session' | 'wrong_token' | null;

export function presentedCredentials(c: Context, token: string, sessions: SessionSigner): Credentials {
  const presented = bearerToken(c.req.header('Authorization'));
  if (presented !== null) return tokenMatches(presented, token) ? 'token' : 'wrong_token';
  return sessions.verify(getCookie(c, sessions.cookieName)) ? 'session' : null;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Whether a request comes from a page of this server. Browsers send `Origin` with every POST; SameSite=
 * Strict already keeps the cookie off requests from other sites, and this check keeps it so should a
 * browser ever get that wrong.
 */
function fromSameOrigin(c: Context): boolean {
  const origin = c.req.header('Origin');
  if (!origin) return false;
  try {
    return new URL(origin).host === c.req.header('Host');
  } catch {
    return false;
  }
}

/**
 * Lets a request through with the API token, or with a dashboard session cookie when it changes
 * nothing or comes from the dashboard's own origin; anything else is a JSON 401 (or 403).
 */
export function requireCredentials(token: string, sessions: SessionSigner): MiddlewareHandler {
  return async (c, next) => {
    const credentials = presentedCredentials(c, token, sessions);
    if (credentials === 'wrong_token') return refuse(c, 'the API token is wrong');
    if (credentials === null) {
      return refuse(c, 'send the API token as "Authorization: Bearer <token>" (it is in $ORCH_HOME/token), or open the dashboard with a login link from `orch dashboard`');
    }
    if (credentials === 'session' && !SAFE_METHODS.has(c.req.method) && !fromSameOrigin(c)) {
      return errorResponse(c, 'forbidden', 'a change made with a dashboard session must come from the dashboard itself');
    }
    await next();
  };
}
