// `orch serve` as a real process on a portfolio of two projects: one whose agent is the real Claude
// Code CLI against the fake model server, one whose agent is a script. Tasks arrive over the CLI and
// over HTTP, finish while the SSE stream is watched, /metrics tells the story, a paused project stops
// dispatching, and SIGTERM shuts the daemon down with nothing left running.

import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { groupAlive } from '../../src/agents/process-group.js';
import { openOrch } from '../../src/engine/context.js';
import { CLI, orch as runOrch } from '../helpers/cli.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';
import { cliAvailable, cliPath, missingCliMessage } from '../rig/agent-clis.js';
import { startFakeModelServer } from '../rig/fake-model/server.js';
import { SseClient } from '../server/sse-client.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const until = async (check: () => Promise<boolean> | boolean, timeoutMs: number, what: string) => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
};

describe('orch serve', () => {
  it('runs a portfolio from CLI and HTTP, streams events, reports metrics, pauses and stops cleanly', async () => {
    expect(cliAvailable('claude'), missingCliMessage('claude')).toBe(true);
    const scratch = tempDir('orch-serve-');
    cleanups.push(scratch.cleanup);
    const api = makeRepo(scratch.path, 'api');
    const web = makeRepo(scratch.path, 'web');
    const script = join(scratch.path, 'agent.sh');
    writeFileSync(script, '#!/bin/sh\necho "from $ORCH_TASK_ID" > "web-$ORCH_TASK_ID.txt"\necho done\n');
    chmodSync(script, 0o755);
    const model = await startFakeModelServer({
      scriptFor: (texts) => {
        const id = /# Task #(\d+):/.exec(texts.join('\n'))?.[1];
        return id
          ? [
              { text: 'Writing.', tools: [{ tool: 'write_file', path: `api-${id}.txt`, content: `task ${id}\n` }] },
              { text: ['Done.', '```json', '{"status":"done","summary":"ok","remaining":"","follow_ups":[]}', '```'].join('\n') },
            ]
          : undefined;
      },
    });
    cleanups.push(() => model.close());
    const home = join(scratch.path, 'home');
    mkdirSync(home);
    writeFileSync(
      join(home, 'config.yaml'),
      JSON.stringify({
        scheduler: { max_agents: 3, tick_interval_s: 30 },
        prices: { 'fake-model': { input: 5, output: 25 } },
        agents: {
          claude: { command: cliPath('claude'), model: 'fake-model', env: [`ANTHROPIC_BASE_URL=${model.url}`, 'ANTHROPIC_API_KEY=fake-key', 'CLAUDE_CODE_MAX_RETRIES=0', 'DISABLE_AUTOUPDATER=1'] },
          script: { kind: 'command', command: script },
        },
        projects: { api: { path: api, default_branch: 'main', agents: ['claude'] }, web: { path: web, default_branch: 'main', agents: ['script'] } },
      }),
    );

    const daemon = spawn(process.execPath, [CLI, 'serve', '--grace', '10', '--port', '0'], { cwd: scratch.path, env: { ...process.env, ORCH_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let logs = '';
    daemon.stdout.on('data', (c: Buffer) => (logs += c.toString()));
    daemon.stderr.on('data', (c: Buffer) => (logs += c.toString()));
    const exited = new Promise<number | null>((resolve) => daemon.once('exit', (code) => resolve(code)));
    cleanups.push(() => {
      if (daemon.exitCode === null) daemon.kill('SIGKILL');
    });
    await until(() => existsSync(join(home, 'daemon.json')), 20_000, `the daemon to listen\n${logs}`);
    const { url } = JSON.parse(readFileSync(join(home, 'daemon.json'), 'utf8')) as { url: string };
    const token = readFileSync(join(home, 'token'), 'utf8').trim();
    const auth = { authorization: `Bearer ${token}` };
    expect((await fetch(`${url}/tasks`)).status).toBe(401);

    const events = await SseClient.connect(`${url}/events?after=0`, auth);
    cleanups.push(() => events.close());

    // Over the CLI (which nudges the daemon to tick at once; its interval is 30 s) and over HTTP.
    const cli = (...args: string[]) => runOrch(args, { cwd: scratch.path, home });
    expect(cli('task', 'add', 'Web task', '--project', 'web').code).toBe(0);
    const created = await fetch(`${url}/tasks`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ project: 'api', title: 'API task' }) });
    expect(created.status).toBe(201);
    const bad = await fetch(`${url}/tasks`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ project: 'api', title: '' }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/title/);

    const finished = (id: number) => events.waitFor((f) => f.event === 'task.finish' && (JSON.parse(f.data!) as { taskId: number }).taskId === id, 60_000);
    await finished(1);
    await finished(2);
    expect(git(web, ['show', 'main:web-1.txt'])).toBe('from 1');
    expect(git(api, ['show', 'main:api-2.txt'])).toBe('task 2');

    const metrics = await (await fetch(`${url}/metrics`, { headers: auth })).text();
    expect(metrics).toMatch(/orch_tasks\{project="api",state="done"\} 1/);
    expect(metrics).toMatch(/orch_runs_total\{[^}]*outcome="succeeded"[^}]*\} 1/);

    // A paused project starts nothing new.
    expect((await fetch(`${url}/projects/web/pause`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' })).status).toBe(200);
    expect(cli('task', 'add', 'Waits while paused', '--project', 'web').code).toBe(0);
    await new Promise((r) => setTimeout(r, 1500));
    const plan = cli('plan', '--dry-run', '--json').json<{ plan: { waiting: { taskId: number; reason: string }[] } }>();
    expect(plan.plan.waiting).toContainEqual(expect.objectContaining({ taskId: 3, reason: 'project_paused' }));

    daemon.kill('SIGTERM');
    expect(await exited, logs).toBe(0);
    expect(existsSync(join(home, 'daemon.json'))).toBe(false);
    const after = await openOrch(home);
    cleanups.push(() => after.close());
    expect(await after.store.listClaims()).toEqual([]);
    for (const run of await after.store.listRuns()) if (run.pid) expect(groupAlive(run.pid)).toBe(false);
    expect((await after.store.getTask(3))!.state).toBe('new');
  });
});
