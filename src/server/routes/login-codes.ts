import { Hono } from 'hono';
import { z } from 'zod';
import { requireBearerToken } from '../auth.js';
import type { LoginCodes } from '../session.js';
import { readJsonBody } from '../validation.js';

const NoBody = z.strictObject({});

/**
 * `POST /login-codes`: a fresh one-time dashboard login code (what `orch dashboard` prints as a link).
 * The API token alone may ask: a dashboard session cannot mint more sessions.
 */
export function loginCodeRoutes(token: string, logins: LoginCodes): Hono {
  const app = new Hono();
  app.post('/login-codes', requireBearerToken(token), async (c) => {
    await readJsonBody(c, NoBody);
    const { code, expiresAt } = logins.issue();
    return c.json({ code, expiresAt, path: `/login?code=${code}` }, 201);
  });
  return app;
}
