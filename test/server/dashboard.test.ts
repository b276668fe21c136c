// The dashboard's doors: the login page, one-time codes traded for a signed HttpOnly cookie, the cookie
// accepted by the API (changes only from the dashboard's own origin), the built assets with their
// content types and caching, and the security headers on every answer.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LoginCodes, SessionSigner } from '../../src/server/session.js';
import { json, TOKEN, useServer } from './harness.js';

const built = mkdtempSync(join(tmpdir(), 'orch-dashboard-build-'));
mkdirSync(join(built, 'assets'));
writeFileSync(join(built, 'manifest.json'), JSON.stringify({ script: 'app-1234.js', style: 'app-5678.css', icon: 'icon-9abc.svg' }));
writeFileSync(join(built, 'assets', 'app-1234.js'), 'console.log("app")');
writeFileSync(join(built, 'assets', 'app-5678.css'), 'body{}');
writeFileSync(join(built, 'assets', 'icon-9abc.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
afterAll(() => rmSync(built, { recursive: true, force: true }));

let clock = Date.now();
const logins = new LoginCodes(() => clock);
const h = useServer({ logins, dashboardDir: built });

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${h.server.url}${path}`, { headers, redirect: 'manual' });
const cookieName = new SessionSigner(TOKEN, Date.now).cookieName;
const cookieOf = (response: Response) => new RegExp(`${cookieName}=([^;]+)`).exec(response.headers.get('set-cookie') ?? '')?.[1];

async function signIn(): Promise<string> {
  const response = await get(`/login?code=${logins.issue().code}`);
  expect(response.status).toBe(303);
  return `${cookieName}=${cookieOf(response)!}`;
}

describe('the dashboard without a session', () => {
  it('serves only the login page, which explains how to get a link and loads no script', async () => {
    const response = await get('/');
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('orch dashboard');
    expect(html).toContain('/assets/app-5678.css');
    expect(html).not.toContain('<script');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect((await get('/assets/app-1234.js')).status).toBe(401);
    expect((await get('/tasks')).status).toBe(401);
  });

  it('sends a strict Content-Security-Policy and the other security headers with every answer', async () => {
    for (const path of ['/', '/login', '/healthz', '/tasks', '/assets/app-5678.css']) {
      const response = await get(path);
      const csp = response.headers.get('content-security-policy')!;
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
    }
  });
});

describe('logging in with a one-time code', () => {
  it('trades a code for an HttpOnly SameSite=Strict cookie and a redirect to a clean URL, once', async () => {
    const { code } = logins.issue();
    const response = await get(`/login?code=${code}`);
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/');
    const setCookie = response.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^orch_session_[0-9a-f]{8}=/);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).toMatch(/Path=\//);
    expect(setCookie).not.toContain(TOKEN);

    const cookie = `${cookieName}=${cookieOf(response)!}`;
    const page = await get('/', { Cookie: cookie });
    expect(await page.text()).toContain('<script type="module" src="/assets/app-1234.js">');

    const again = await get(`/login?code=${code}`);
    expect(again.status).toBe(401);
    expect(await again.text()).toContain('used already or has expired');
    expect(again.headers.get('set-cookie')).toBeNull();
  });

  it('refuses an unknown or expired code', async () => {
    expect((await get('/login?code=made-up')).status).toBe(401);
    const { code } = logins.issue();
    clock += 6 * 60_000;
    try {
      expect((await get(`/login?code=${code}`)).status).toBe(401);
    } finally {
      clock -= 6 * 60_000;
    }
  });

  it('sends a signed-in browser from /login to the dashboard', async () => {
    const cookie = await signIn();
    const response = await get('/login', { Cookie: cookie });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/');
  });
});

describe('the session cookie at the API', () => {
  it('reads with the cookie; changes only from the dashboard origin', async () => {
    const cookie = await signIn();
    expect((await h.call('/tasks', { token: null, headers: { Cookie: cookie } })).status).toBe(200);

    const add = (headers: Record<string, string>) => h.call('/tasks', { token: null, headers: { Cookie: cookie, ...headers }, body: { project: 'app', title: 'From the page' } });
    const noOrigin = await add({});
    expect(noOrigin.status).toBe(403);
    expect((await json<{ error: { code: string } }>(noOrigin)).error.code).toBe('forbidden');
    expect((await add({ Origin: 'http://evil.example' })).status).toBe(403);
    const host = new URL(h.server.url).host;
    expect((await add({ Origin: `http://${host}` })).status).toBe(201);
  });

  it('refuses a tampered cookie, one signed for another token, and one past its lifetime', async () => {
    const cookie = await signIn();
    const tampered = cookie.replace(/v1\.(\d)/, (_, digit: string) => `v1.${(Number(digit) + 1) % 10}`);
    expect((await h.call('/tasks', { token: null, headers: { Cookie: tampered } })).status).toBe(401);
    const foreign = new SessionSigner('b'.repeat(64), () => clock).create();
    expect((await h.call('/tasks', { token: null, headers: { Cookie: `${cookieName}=${foreign}` } })).status).toBe(401);
    const old = new SessionSigner(TOKEN, () => clock - 8 * 24 * 60 * 60_000).create();
    expect((await h.call('/tasks', { token: null, headers: { Cookie: `${cookieName}=${old}` } })).status).toBe(401);
  });

  it('lets only the API token mint login codes', async () => {
    const cookie = await signIn();
    const host = new URL(h.server.url).host;
    expect((await h.call('/login-codes', { token: null, headers: { Cookie: cookie, Origin: `http://${host}` }, body: {} })).status).toBe(401);
    const minted = await h.call('/login-codes', { body: {} });
    expect(minted.status).toBe(201);
    const { path, expiresAt } = await json<{ path: string; expiresAt: number }>(minted);
    expect(path).toMatch(/^\/login\?code=[A-Za-z0-9_-]{32}$/);
    expect(expiresAt).toBeGreaterThan(clock);
    expect((await get(path)).status).toBe(303);
  });

  it('signs out by clearing the cookie', async () => {
    const cookie = await signIn();
    const host = new URL(h.server.url).host;
    const response = await h.call('/logout', { token: null, headers: { Cookie: cookie, Origin: `http://${host}` }, body: {} });
    expect(response.status).toBe(200);
    expect(response.headers.get('set-cookie')).toMatch(new RegExp(`${cookieName}=;.*Max-Age=0`));
  });
});

describe('the built assets', () => {
  it('serve with their content types; names carry a hash, so copies are kept for good', async () => {
    const style = await get('/assets/app-5678.css');
    expect(style.status).toBe(200);
    expect(style.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(style.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await get('/assets/icon-9abc.svg')).headers.get('content-type')).toBe('image/svg+xml');

    const cookie = await signIn();
    const script = await get('/assets/app-1234.js', { Cookie: cookie });
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
    expect(await script.text()).toBe('console.log("app")');
    expect((await get('/assets/nope.js', { Cookie: cookie })).status).toBe(404);
    expect((await get('/assets/..%2Fmanifest.json', { Cookie: cookie })).status).toBe(404);
  });
});
