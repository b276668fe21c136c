import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { openOrch, type Orch } from '../../src/engine/context.js';
import { createApp, type ServerDeps, type TickStats } from '../../src/server/app.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { makeRepo, tempDir } from '../helpers/git.js';

export const TOKEN = 'a'.repeat(64);

export interface LogLine {
  level: 'info' | 'warn';
  fields: Record<string, unknown>;
  message: string;
}

export interface HarnessOptions extends Partial<Pick<ServerDeps, 'events' | 'env' | 'now'>> {
  /** More top-level keys of config.yaml (beside the one project). */
  config?: Record<string, unknown>;
  /** `all`: one server for every test of the block, for tests that must leave nothing behind anyway. */
  scope?: 'each' | 'all';
}

export interface Harness {
  orch: Orch;
  /** What the server logged. */
  logs: LogLine[];
  server: RunningServer;
  ticksRequested: number;
  tickStats: TickStats;
  /** fetch against the server with the token (unless `token: null`) and JSON bodies. */
  call(path: string, init?: { method?: string; body?: unknown; rawBody?: string; token?: string | null; headers?: Record<string, string> }): Promise<Response>;
}

/**
 * A real server on 127.0.0.1:0 over a real SQLite Orch, whose ORCH_HOME has one project `app` backed by
 * a real git repository. Fresh for every test, unless `scope: 'all'`.
 */
export function useServer(deps: HarnessOptions & Partial<Pick<ServerDeps, 'logins' | 'dashboardDir'>> = {}): Harness {
  let scratch: { path: string; cleanup: () => void };
  const harness = { ticksRequested: 0, tickStats: { lastTickMs: null, lastTickAt: null, ticks: 0 } } as Harness;

  const [before, after] = deps.scope === 'all' ? [beforeAll, afterAll] : [beforeEach, afterEach];

  before(async () => {
    scratch = tempDir('orch-server-');
    const repo = makeRepo(scratch.path, 'app');
    const home = join(scratch.path, 'home');
    mkdirSync(home);
    writeFileSync(join(home, 'config.yaml'), JSON.stringify({ ...deps.config, projects: { app: { path: repo } } }));
    harness.orch = await openOrch(home);
    harness.ticksRequested = 0;
    harness.logs = [];
    harness.tickStats = { lastTickMs: null, lastTickAt: null, ticks: 0 };
    const app = createApp({
      orch: harness.orch,
      token: TOKEN,
      requestTick: () => void harness.ticksRequested++,
      tickStats: () => harness.tickStats,
      events: { pollMs: 20, ...deps.events },
      env: deps.env,
      now: deps.now,
      logger: {
        info: (fields, message) => void harness.logs.push({ level: 'info', fields, message }),
        warn: (fields, message) => void harness.logs.push({ level: 'warn', fields, message }),
      },
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

  after(async () => {
    await harness.server.close();
    await harness.orch.close();
    scratch.cleanup();
  });

  return harness;
}

export async function json<T = unknown>(response: Response): Promise<T> {
  return (await response.json()) as T;
}
