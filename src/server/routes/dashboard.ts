import { Hono, type Context } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { presentedCredentials } from '../auth.js';
import type { DashboardAssets } from '../dashboard-assets.js';
import { appPage, loginPage, notBuiltPage } from '../dashboard-pages.js';
import { errorResponse } from '../http-errors.js';
import type { LoginCodes, SessionSigner } from '../session.js';

export interface DashboardRouteDeps {
  token: string;
  sessions: SessionSigner;
  logins: LoginCodes;
  /** null when the package was not built with its dashboard. */
  assets: DashboardAssets | null;
}

/** Pages depend on who asks, so no copy of one is ever kept. */
const PAGE_HEADERS = { 'Cache-Control': 'no-store' };
/** Asset names carry their content's hash: a copy never goes stale. */
const IMMUTABLE = 'max-age=31536000, immutable';

/**
 * The dashboard's public face, registered before the credentials check: `/` (the app for a session,
 * else the login page), `/login?code=` (trades a one-time code for a session cookie) and the built
 * assets. Only the stylesheet and icon are public: the login page needs them, and they hold no data.
 */
export function dashboardRoutes({ token, sessions, logins, assets }: DashboardRouteDeps): Hono {
  const app = new Hono();
  const manifest = assets?.manifest ?? null;
  const signedIn = (c: Context) => {
    const credentials = presentedCredentials(c, token, sessions);
    return credentials === 'token' || credentials === 'session';
  };

  app.get('/', (c) => {
    if (!manifest) return c.html(notBuiltPage(), 503, PAGE_HEADERS);
    if (!signedIn(c)) return c.html(loginPage(manifest), 200, PAGE_HEADERS);
    return c.html(appPage(manifest), 200, PAGE_HEADERS);
  });

  app.get('/login', (c) => {
    const code = c.req.query('code');
    if (code === undefined || code === '') {
      if (signedIn(c)) return c.redirect('/', 303);
      return c.html(loginPage(manifest), 200, PAGE_HEADERS);
    }
    if (!logins.consume(code)) {
      return c.html(loginPage(manifest, { problem: 'That login link was used already or has expired. Get a new one with `orch dashboard`.' }), 401, PAGE_HEADERS);
    }
    setCookie(c, sessions.cookieName, sessions.create(), {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/',
      maxAge: Math.floor(sessions.ttlMs / 1000),
      // The daemon serves plain HTTP on loopback; behind a TLS proxy the browser is told to keep it there.
      secure: c.req.header('X-Forwarded-Proto') === 'https',
    });
    // 303 to a clean URL: the code leaves the address bar (and the history) at once.
    return c.redirect('/', 303);
  });

  app.get('/assets/:name', (c) => {
    const name = c.req.param('name');
    const asset = assets?.files.get(name);
    if (!asset) return errorResponse(c, 'not_found', `no asset ${name}`);
    const isPublic = name === manifest!.style || name === manifest!.icon;
    if (!isPublic && !signedIn(c)) return errorResponse(c, 'unauthorized', 'sign in to the dashboard first');
    return c.body(asset.body as Uint8Array<ArrayBuffer>, 200, {
      'Content-Type': asset.contentType,
      'Cache-Control': `${isPublic ? 'public' : 'private'}, ${IMMUTABLE}`,
    });
  });

  return app;
}

/** `POST /logout`: ends this browser's session (behind the credentials check, so only the page itself can). */
export function logoutRoutes(sessions: SessionSigner): Hono {
  const app = new Hono();
  app.post('/logout', (c) => {
    deleteCookie(c, sessions.cookieName, { path: '/' });
    return c.json({ signedOut: true });
  });
  return app;
}
