// Browser sessions for the dashboard. A person never types or sees the API token: the daemon hands out
// one-time login codes (printed at start, or fresh from `orch dashboard`), and a code that is presented
// once, in time, buys an HttpOnly cookie. The cookie is signed with a key derived from the token rather
// than kept in memory, so sessions survive a daemon restart and all of them end when the token file is
// replaced.

import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Every session cookie's name starts so; the rest tells apart daemons on one host (cookies ignore ports). */
export const SESSION_COOKIE_PREFIX = 'orch_session_';
/** Long enough to open a link from a terminal; short enough that a link found later in scrollback is dead. */
export const LOGIN_CODE_TTL_MS = 5 * 60_000;
/** A dashboard is left open all day; a week spares people a fresh link every morning. */
export const SESSION_TTL_MS = 7 * 24 * 60 * 60_000;
/** Codes nobody used pile up only as fast as token holders ask; this bounds what they can make us hold. */
const MAX_OUTSTANDING_CODES = 100;

const digest = (text: string) => createHash('sha256').update(text).digest('base64url');

export interface LoginCode {
  code: string;
  expiresAt: number;
}

/** Single-use, short-lived login codes, held in the daemon's memory only (as digests). */
export class LoginCodes {
  private readonly expiryByDigest = new Map<string, number>();

  constructor(
    private readonly now: () => number,
    private readonly ttlMs = LOGIN_CODE_TTL_MS,
  ) {}

  issue(): LoginCode {
    this.forgetExpired();
    if (this.expiryByDigest.size >= MAX_OUTSTANDING_CODES) {
      // Maps iterate in insertion order: the oldest code gives way.
      const oldest = this.expiryByDigest.keys().next().value as string;
      this.expiryByDigest.delete(oldest);
    }
    const code = randomBytes(24).toString('base64url');
    const expiresAt = this.now() + this.ttlMs;
    this.expiryByDigest.set(digest(code), expiresAt);
    return { code, expiresAt };
  }

  /** Whether `code` was issued and is still good; either way it cannot be used again. */
  consume(code: string): boolean {
    const key = digest(code);
    const expiresAt = this.expiryByDigest.get(key);
    this.expiryByDigest.delete(key);
    return expiresAt !== undefined && expiresAt > this.now();
  }

  private forgetExpired(): void {
    const now = this.now();
    for (const [key, expiresAt] of this.expiryByDigest) if (expiresAt <= now) this.expiryByDigest.delete(key);
  }
}

/** Signs and checks session cookies with a key of their own, derived from the API token. */
export class SessionSigner {
  private readonly key: Buffer;
  /** Named after the key: a browser signed in to two daemons on one host keeps both sessions. */
  readonly cookieName: string;

  constructor(
    token: string,
    private readonly now: () => number,
    readonly ttlMs = SESSION_TTL_MS,
  ) {
    // A separate key: a session cookie reveals nothing usable as the token, and vice versa.
    this.key = createHmac('sha256', token).update('orch dashboard session v1').digest();
    this.cookieName = `${SESSION_COOKIE_PREFIX}${createHmac('sha256', this.key).update('cookie name').digest('hex').slice(0, 8)}`;
  }

  /** A new session's cookie value: `v1.<expires>.<nonce>.<signature>`. */
  create(): string {
    const body = `v1.${this.now() + this.ttlMs}.${randomBytes(16).toString('base64url')}`;
    return `${body}.${this.sign(body)}`;
  }

  /** Whether `value` is a cookie this signer made that has not expired. */
  verify(value: string | undefined): boolean {
    if (!value) return false;
    const cut = value.lastIndexOf('.');
    if (cut < 0) return false;
    const body = value.slice(0, cut);
    const presented = Buffer.from(value.slice(cut + 1));
    const expected = Buffer.from(this.sign(body));
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return false;
    const match = /^v1\.(\d{1,15})\.[A-Za-z0-9_-]+$/.exec(body);
    return match !== null && Number(match[1]) > this.now();
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}
