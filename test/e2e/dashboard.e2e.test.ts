// The web dashboard in a real Chromium against a real `orch serve`: one project whose agent is the real
// Claude Code CLI against the fake model server (slow enough to watch it work), one whose agent is a
// script. Signing in with the link printed at start, the board following a task from new to running
// to done without a reload, the agent's output while it runs, retry from the inbox, pause from the
// portfolio, the costs view, the phone layout, and the banner when the daemon goes away. Each view is
// photographed into test-results/screenshots/.

import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../../src/core/approvals.js';
import type { Run, Task } from '../../src/core/types.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { CLI, orch as runOrch } from '../helpers/cli.js';
import { makeRepo, tempDir } from '../helpers/git.js';
import { cliAvailable, cliPath, missingCliMessage } from '../rig/agent-clis.js';
import { startFakeModelServer, type FakeModelServer } from '../rig/fake-model/server.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SCREENSHOTS = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url));
const BUILT_DASHBOARD = fileURLToPath(new URL('../../dist/dashboard/manifest.json', import.meta.url));
/** How long the fake model holds back the live task's last answer: the window to watch the agent at work. */
const SLOW_TURN_MS = 8000;
const DONE_CONTRACT = ['Done.', '```json', '{"status":"done","summary":"ok","remaining":"","follow_ups":[]}', '```'].join('\n');
const REVIEW_CONTRACT = ['I need a person.', '```json', '{"status":"needs_review","summary":"unsure","remaining":"the spec is ambiguous","follow_ups":[]}', '```'].join('\n');

const until = async <T>(check: () => Promise<T | false | null | undefined> | T | false | null | undefined, timeoutMs: number, what: string): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`timed out waiting for ${what}`);
};

interface Rig {
  scratch: { path: string; cleanup: () => void };
  home: string;
  model: FakeModelServer;
  daemon: ChildProcess;
  logs: string;
  url: string;
  port: number;
  token: string;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Script errors and Content-Security-Policy violations on any page of the signed-in browser. */
  pageProblems: string[];
}
const rig = {} as Rig;

function startDaemon(port: number): Promise<void> {
  rig.logs = '';
  const daemon = spawn(process.execPath, [CLI, 'serve', '--grace', '5', '--port', String(port)], {
    cwd: rig.scratch.path,
    env: { ...process.env, ORCH_HOME: rig.home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  daemon.stdout.on('data', (chunk: Buffer) => (rig.logs += chunk.toString()));
  daemon.stderr.on('data', (chunk: Buffer) => (rig.logs += chunk.toString()));
  rig.daemon = daemon;
  return until(() => /"dashboard":"[^"]+"/.test(rig.logs), 20_000, 'the daemon to print its login link').then(() => undefined);
}

/** The one-time login link the daemon printed when it started. */
const printedLink = () => /"dashboard":"([^"]+)"/.exec(rig.logs)![1]!;

async function stopDaemon(): Promise<void> {
  if (rig.daemon.exitCode !== null) return;
  const exited = new Promise((resolve) => rig.daemon.once('exit', resolve));
  rig.daemon.kill('SIGTERM');
  await exited;
}

async function apiCall<T>(path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${rig.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${rig.token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}
const taskState = async (id: number) => (await apiCall<{ task: Task }>(`/tasks/${id}`)).task.state;
const runsOf = (id: number) => apiCall<Run[]>(`/runs?task=${id}`);

async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: options.fullPage ?? false });
}

beforeAll(async () => {
  // Nothing here is optional: a machine without Chromium fails these tests, it does not skip them.
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is needed for the dashboard tests and is not at ${CHROMIUM}: install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH`);
  }
  if (!existsSync(BUILT_DASHBOARD)) throw new Error(`${BUILT_DASHBOARD} is missing: run \`npm run build\` first (npm test does)`);
  expect(cliAvailable('claude'), missingCliMessage('claude')).toBe(true);
  mkdirSync(SCREENSHOTS, { recursive: true });

  rig.scratch = tempDir('orch-dashboard-');
  const api = makeRepo(rig.scratch.path, 'api');
  const web = makeRepo(rig.scratch.path, 'web');
  const script = join(rig.scratch.path, 'agent.sh');
  writeFileSync(script, '#!/bin/sh\necho "working on task $ORCH_TASK_ID"\necho "from $ORCH_TASK_ID" > "web-$ORCH_TASK_ID.txt"\necho done\n');
  chmodSync(script, 0o755);
  rig.model = await startFakeModelServer({
    scriptFor: (texts) => {
      const prompt = texts.join('\n');
      const id = /# Task #(\d+):/.exec(prompt)?.[1];
      if (!id) return undefined;
      if (prompt.includes('Needs a person')) return [{ text: REVIEW_CONTRACT }];
      return [
        { text: 'Writing the greeting file now.', tools: [{ tool: 'write_file', path: `api-${id}.txt`, content: `hello from task ${id}\n` }] },
        { text: DONE_CONTRACT, delayMs: SLOW_TURN_MS },
      ];
    },
  });
  rig.home = join(rig.scratch.path, 'home');
  mkdirSync(rig.home);
  writeFileSync(
    join(rig.home, 'config.yaml'),
    JSON.stringify({
      scheduler: { max_agents: 3, tick_interval_s: 30 },
      prices: { 'fake-model': { input: 5, output: 25 } },
      agents: {
        claude: { command: cliPath('claude'), model: 'fake-model', env: [`ANTHROPIC_BASE_URL=${rig.model.url}`, 'ANTHROPIC_API_KEY=fake-key', 'CLAUDE_CODE_MAX_RETRIES=0', 'DISABLE_AUTOUPDATER=1'] },
        script: { kind: 'command', command: script },
      },
      projects: { api: { path: api, default_branch: 'main', agents: ['claude'] }, web: { path: web, default_branch: 'main', agents: ['script'] } },
    }),
  );
  await startDaemon(0);
  const info = JSON.parse(readFileSync(join(rig.home, 'daemon.json'), 'utf8')) as { url: string };
  rig.url = info.url;
  rig.port = Number(new URL(info.url).port);
  rig.token = readFileSync(join(rig.home, 'token'), 'utf8').trim();

  rig.browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  rig.context = await rig.browser.newContext({ viewport: { width: 1280, height: 800 } });
  rig.pageProblems = [];
  rig.context.on('weberror', (error) => rig.pageProblems.push(`script error: ${error.error().message}`));
  rig.context.on('console', (message) => {
    if (/Content.Security.Policy/i.test(message.text())) rig.pageProblems.push(`CSP: ${message.text()}`);
  });
  rig.page = await rig.context.newPage();
}, 120_000);

afterAll(async () => {
  await rig.browser?.close();
  if (rig.daemon && rig.daemon.exitCode === null) rig.daemon.kill('SIGKILL');
  await rig.model?.close();
  rig.scratch?.cleanup();
});

describe('the dashboard', () => {
  it('serves only the login page without a session, and never the API', async () => {
    const stranger = await rig.browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const page = await stranger.newPage();
      const response = await page.goto(`${rig.url}/`);
      expect(response!.status()).toBe(200);
      await expect.poll(() => page.locator('[data-view="login"]').isVisible()).toBe(true);
      expect(await page.locator('#app').count()).toBe(0);
      expect(await page.textContent('body')).toContain('orch dashboard');
      await screenshot(page, 'login');

      expect((await page.goto(`${rig.url}/tasks`))!.status()).toBe(401);
      expect((await page.goto(`${rig.url}/login?code=not-a-code`))!.status()).toBe(401);
      expect(await page.textContent('[role="alert"]')).toContain('used already or has expired');
    } finally {
      await stranger.close();
    }
  });

  it('signs in with the one-time link printed at start; the link works once', async () => {
    const link = printedLink();
    expect(link).toMatch(new RegExp(`^${rig.url}/login\\?code=`));
    expect(link).not.toContain(rig.token);
    await rig.page.goto(link);
    expect(rig.page.url()).toBe(`${rig.url}/`);
    await rig.page.locator('[data-view="portfolio"] [data-project="api"]').waitFor();
    const [cookie] = await rig.context.cookies();
    expect(cookie).toEqual(expect.objectContaining({ name: expect.stringMatching(/^orch_session_[0-9a-f]{8}$/), httpOnly: true, sameSite: 'Strict' }));

    const other = await rig.browser.newContext();
    try {
      const page = await other.newPage();
      expect((await page.goto(link))!.status()).toBe(401);
      await page.locator('[data-view="login"]').waitFor();

      // `orch dashboard` asks the daemon for a fresh link, which signs this browser in.
      const fresh = runOrch(['dashboard', '--json'], { cwd: rig.scratch.path, home: rig.home });
      expect(fresh.code, fresh.stderr).toBe(0);
      const { url } = fresh.json<{ url: string }>();
      expect(url).toMatch(new RegExp(`^${rig.url}/login\\?code=`));
      await page.goto(url);
      await page.locator('[data-view="portfolio"] [data-project="web"]').waitFor();
    } finally {
      await other.close();
    }
  });

  it('follows a task on the board from new to running to done without a reload, with the agent output live', async () => {
    const board = rig.page;
    await apiCall('/projects/api/pause', { reason: 'holding the first task in New' });
    await board.goto(`${rig.url}/#/board?project=api`);
    await board.locator('[data-view="board"] [data-column="new"]').waitFor();
    // A mark on this page's window: gone if anything reloads the page.
    await board.evaluate('window.notReloaded = true');

    // Added from the page; its project is paused, so it waits in New until resumed.
    await board.click('[data-action="open-add-task"]');
    await board.fill('[data-form="add-task"] input[name="title"]', 'Live task');
    await board.fill('[data-form="add-task"] input[name="labels"]', 'demo, ui');
    await board.click('[data-form="add-task"] button[type="submit"]');
    await board.locator('[data-column="new"] [data-task-id="1"]').waitFor({ timeout: 10_000 });

    await apiCall('/projects/api/resume', {});
    await board.locator('[data-column="running"] [data-task-id="1"]').waitFor({ timeout: 30_000 });

    // While the fake model holds its last answer back, the agent's first steps are already on the page.
    const detail = await rig.context.newPage();
    await detail.goto(`${rig.url}/#/tasks/1`);
    const output = detail.locator('[data-agent-output]');
    await output.locator('[data-event-type="agent.assistant_text"]', { hasText: 'Writing the greeting file now.' }).waitFor({ timeout: 30_000 });
    await output.locator('[data-event-type="agent.tool_call"]', { hasText: 'api-1.txt' }).waitFor({ timeout: 10_000 });
    expect(await taskState(1)).toBe('running');
    expect(await detail.getAttribute('[data-task-state]', 'data-task-state')).toBe('running');
    expect(await detail.locator('[data-outcome="running"]').count()).toBe(1);
    await screenshot(detail, 'task-detail-running');

    await board.locator('[data-column="done"] [data-task-id="1"]').waitFor({ timeout: 60_000 });
    expect(await board.evaluate('window.notReloaded')).toBe(true);
    await screenshot(board, 'board');

    // The finished task: its attempt, verdict and the diff of what it merged.
    await detail.locator('[data-task-state="done"]').waitFor({ timeout: 10_000 });
    await detail.locator('[data-outcome="succeeded"]').waitFor();
    await detail.locator('[data-verdict="passed"]').waitFor({ timeout: 10_000 });
    await detail.click('[data-verdict] button');
    expect(await detail.locator('.verdict-md').textContent()).toContain('**Verdict: passed**');
    await detail.locator('[data-diff]', { hasText: 'api-1.txt' }).waitFor({ timeout: 10_000 });
    expect(await detail.textContent('[data-diff]')).toContain('+hello from task 1');
    expect(await output.textContent()).not.toContain('"type"');
    await screenshot(detail, 'task-detail', { fullPage: true });
    await detail.close();
  }, 150_000);

  it('retries a task that needs review from the inbox, which starts a new attempt', async () => {
    const task = await apiCall<Task>('/tasks', { project: 'api', title: 'Needs a person' });
    await until(async () => (await taskState(task.id)) === 'needs_review', 60_000, 'the task to need review');
    const page = rig.page;
    await page.goto(`${rig.url}/#/inbox`);
    const item = page.locator(`[data-view="inbox"] [data-task-id="${task.id}"]`);
    await item.waitFor();
    expect(await item.textContent()).toContain('the agent asks for review: the spec is ambiguous');
    await screenshot(page, 'inbox');

    expect(await runsOf(task.id)).toHaveLength(1);
    await item.locator('[data-action="retry"]').click();
    const runs = await until(async () => {
      const list = await runsOf(task.id);
      return list.length === 2 ? list : null;
    }, 30_000, 'a second attempt');
    expect(runs[1]!.id).toBeGreaterThan(runs[0]!.id);
    await page.goto(`${rig.url}/#/tasks/${task.id}`);
    await expect.poll(() => page.locator('[data-runs] tbody tr').count(), { timeout: 10_000 }).toBe(2);
  }, 120_000);

  it("approves an agent's permission request and answers its question from the inbox", async () => {
    // Requests as a run's agent makes them, written beside the daemon as another process would.
    const task = await apiCall<Task>('/tasks', { project: 'web', title: 'Asks a person' });
    await until(async () => ((await runsOf(task.id)).length > 0 ? true : null), 60_000, 'a run of the task');
    const [run] = await runsOf(task.id);
    const store = await openSqliteStore(join(rig.home, 'orch.db'));
    const base = { project: 'web', taskId: task.id, runId: run!.id };
    const permission = await store.createApproval({ ...base, kind: 'permission', tool: 'Bash', input: { command: 'npm publish' }, question: null }, Date.now());
    const question = await store.createApproval({ ...base, kind: 'question', tool: null, input: null, question: 'Which port?' }, Date.now());
    await store.close();

    const page = rig.page;
    await page.goto(`${rig.url}/#/inbox`);
    const asked = page.locator(`[data-view="inbox"] [data-approval-id="${permission.id}"]`);
    await asked.waitFor();
    expect(await asked.textContent()).toContain('npm publish');
    await screenshot(page, 'inbox-approvals');
    await asked.locator('input').fill('release day');
    await asked.locator('[data-action="approve"]').click();
    const answered = page.locator(`[data-view="inbox"] [data-approval-id="${question.id}"]`);
    await answered.locator('input').fill('8080');
    await answered.locator('[data-action="answer"]').click();
    const decided = await until(async () => {
      const all = await apiCall<Approval[]>(`/approvals?state=all&run=${run!.id}`);
      return all.every((a) => a.state !== 'pending') ? all : null;
    }, 30_000, 'both requests decided');
    expect(decided.map((a) => [a.state, a.decidedBy, a.reason])).toEqual([
      ['allowed', 'person', 'release day'],
      ['answered', 'person', '8080'],
    ]);
    await expect.poll(() => page.locator('[data-approvals] [data-approval-id]').count(), { timeout: 10_000 }).toBe(0);
  }, 120_000);

  it('pauses a project from the portfolio, which stops its dispatch, and resumes it', async () => {
    const page = rig.page;
    await page.goto(`${rig.url}/#/`);
    const web = page.locator('[data-project="web"]');
    await web.locator('[data-action="pause"]').click();
    await web.locator('[data-paused]').waitFor();
    expect((await apiCall<{ paused: boolean }[]>('/projects')).find((p) => (p as unknown as { name: string }).name === 'web')?.paused).toBe(true);

    const task = await apiCall<Task>('/tasks', { project: 'web', title: 'Waits while paused' });
    await new Promise((r) => setTimeout(r, 2000));
    expect(await taskState(task.id)).toBe('new');
    expect(await runsOf(task.id)).toEqual([]);
    const cli = runOrch(['plan', '--dry-run', '--json'], { cwd: rig.scratch.path, home: rig.home });
    expect(cli.json<{ plan: { waiting: { taskId: number; reason: string }[] } }>().plan.waiting).toContainEqual(expect.objectContaining({ taskId: task.id, reason: 'project_paused' }));
    await expect.poll(() => web.locator('[data-figure="queued"]').textContent(), { timeout: 10_000 }).toBe('1');
    // Below the projects, the hosts sharing the store: this daemon, alive.
    await page.locator('[data-panel="hosts"] [data-state="alive"]').waitFor();
    await screenshot(page, 'portfolio');

    await web.locator('[data-action="resume"]').click();
    await until(async () => (await taskState(task.id)) === 'done', 60_000, 'the resumed project to finish its task');
    await expect.poll(() => web.locator('[data-paused]').count()).toBe(0);
  }, 120_000);

  it('shows costs and health: spend charts, success rates, durations, tick and queue', async () => {
    const page = rig.page;
    await page.goto(`${rig.url}/#/costs`);
    await page.locator('[data-view="costs"] svg').first().waitFor();
    expect(await page.locator('[data-view="costs"] svg[role="img"]').count()).toBeGreaterThanOrEqual(4);
    expect(await page.textContent('[data-figure="tick"]')).toMatch(/\d+ ticks/);
    expect(await page.textContent('[data-queue]')).toContain('web');
    expect(await page.textContent('[data-view="costs"]')).toContain('claude');
    await screenshot(page, 'costs', { fullPage: true });
  });

  it('fits a phone: the board columns scroll sideways, the page does not', async () => {
    const phone = await rig.context.newPage();
    try {
      await phone.setViewportSize({ width: 390, height: 844 });
      await phone.goto(`${rig.url}/#/board`);
      await phone.locator('[data-column="done"] [data-task-id="1"]').waitFor();
      const widths = await phone.evaluate<{ board: number; boardVisible: number; page: number }>(
        `(() => { const board = document.querySelector('[data-board]'); return { board: board.scrollWidth, boardVisible: board.clientWidth, page: document.documentElement.scrollWidth }; })()`,
      );
      expect(widths.board).toBeGreaterThan(widths.boardVisible);
      expect(widths.page).toBeLessThanOrEqual(390);
      await screenshot(phone, 'board-phone');
    } finally {
      await phone.close();
    }
  });

  it('counts every task of a column and shows its newest first, more on demand', async () => {
    // A long history, written straight into the store as years of finished work would be: no event announces it.
    const db = new Database(join(rig.home, 'orch.db'));
    try {
      const insert = db.prepare(`insert into tasks (project, title, body, labels, priority, role, state, attempts, cost_usd, created_at, updated_at, version)
        values ('web', ?, '', '[]', 0, 'implement', 'cancelled', 0, 0, ?, ?, 1)`);
      // Updated later than anything else the suite did, so they lead the column, the 45th first.
      const later = Date.now() + 86_400_000;
      db.transaction(() => {
        for (let i = 1; i <= 45; i++) insert.run(`Old task ${i}`, later + i, later + i);
      })();
    } finally {
      db.close();
    }
    const page = rig.page;
    await page.goto(`${rig.url}/#/board?project=web`);
    const column = page.locator('[data-column="cancelled"]');
    await column.locator('[data-task-id]').first().waitFor();
    const cancelled = await column.getAttribute('data-count');
    expect(Number(cancelled)).toBeGreaterThanOrEqual(45);
    expect(await column.locator('.count').textContent()).toBe(Number(cancelled).toLocaleString('en-US'));
    expect(await column.locator('[data-task-id]').count()).toBe(30);
    expect(await column.locator('.task-title').first().textContent()).toBe('Old task 45');
    while ((await column.locator('[data-action="show-more"]').count()) > 0) {
      const shown = await column.locator('[data-task-id]').count();
      await column.locator('[data-action="show-more"]:not([disabled])').click();
      await expect.poll(() => column.locator('[data-task-id]').count(), { timeout: 10_000 }).toBeGreaterThan(shown);
    }
    expect(await column.locator('[data-task-id]').count()).toBe(Number(cancelled));
    expect(await column.locator('.task-title').nth(44).textContent()).toBe('Old task 1');
    await screenshot(page, 'board-paged');
  });

  it('says so with a banner when the daemon stops, and recovers when it is back', async () => {
    const page = rig.page;
    await page.goto(`${rig.url}/#/`);
    await page.locator('[data-project="api"]').waitFor();
    expect(await page.locator('[data-banner]').count()).toBe(0);

    await stopDaemon();
    await page.locator('[data-banner="unreachable"]').waitFor({ timeout: 20_000 });
    expect(await page.textContent('[data-banner="unreachable"]')).toContain('Orch is unreachable');
    await screenshot(page, 'unreachable');

    // The same port again: the page keeps trying, and the session (a signed cookie) is still good.
    await startDaemon(rig.port);
    await page.locator('[data-banner="unreachable"]').waitFor({ state: 'detached', timeout: 20_000 });
    expect(await page.locator('[data-banner]').count()).toBe(0);
    await stopDaemon();
  }, 90_000);

  it('ran every page without a script error or a Content-Security-Policy violation', () => {
    expect(rig.pageProblems).toEqual([]);
  });
});
