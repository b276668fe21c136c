import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { openOrch, type Orch } from '../../src/engine/context.js';
import { createApp, type ServerDeps, type TickStats } from '../../src/server/app.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { makeRepo, tempDir } from '../helpers/git.js';

export const TOKEN = 'a'.repeat(64);

export interface Harness {
  orch: Orch;
  server: RunningServer;
  ticksRequested: number;
  tickStats: TickStats;
  /** fetch against the server with the token (unless `token: null`) and JSON bodies. */
  call(path: string, init?: { method?: string; body?: unknown; rawBody?: string; token?: string | null; headers?: Record<string, string> }): Promise<Response>;
}

/**
 * A real server on 127.0.0.1:0 over a real SQLite Orch, whose ORCH_HOME has one project `app` backed by
 * a real git repository. Fresh for every test.
 */
export function useServer(deps: Partial<Pick<ServerDeps, 'events' | 'logins' | 'dashboardDir'>> = {}): Harness {
  let scratch: { path: string; cleanup: () => void };
  const harness = { ticksRequested: 0, tickStats: { lastTickMs: null, lastTickAt: null, ticks: 0 } } as Harness;

  beforeEach(async () => {
    scratch = tempDir('orch-server-');
    const repo = makeRepo(scratch.path, 'app');
    const home = join(scratch.path, 'home');
    mkdirSync(home);
    writeFileSync(join(home, 'config.yaml'), JSON.stringify({ projects: { app: { path: repo } } }));
    harness.orch = await openOrch(home);
    harness.ticksRequested = 0;
    harness.tickStats = { lastTickMs: null, lastTickAt: null, ticks: 0 };
    const app = createApp({
      orch: harness.orch,
      token: TOKEN,
      requestTick: () => void harness.ticksRequested++,
      tickStats: () => harness.tickStats,
      events: { pollMs: 20, ...deps.events },
      logins: deps.logins,
      dashboardDir: deps.dashboardDir ?? null,
    });
    harness.server = await startServer(app, { port: 0 });
    harness.call = (path, init = {}) => {
      const headers: Record<string, string> = { ...init.headers };
      const token = init.token === undefined ? TOKEN : init.token;
      if (token !== null) headers.Authorization = `Bearer ${token}`;
      let body: string | undefined = init.rawBody;
      if (init.body !== undefined) {
        body = JSON.stringify(init.body);
        headers['Content-Type'] = 'application/json';
      }
      return fetch(`${harness.server.url}${path}`, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
    };
  });

  afterEach(async () => {
    await harness.server.close();
    await harness.orch.close();
    scratch.cleanup();
  });

  return harness;
}

export async function json<T = unknown>(response: Response): Promise<T> {
  return (await response.json()) as T;
}
