// People in the loop, end to end: the real, pinned Claude Code against the fake model, in Orch's
// sandbox, asks Orch's MCP server for a run (its permission prompt tool) before commands its
// permissions do not allow. The project's rule denies one; a person approves the other over HTTP, as
// the dashboard does; the run goes on and finishes, and `orch log` tells both decisions.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../../src/core/approvals.js';
import { runAttempt } from '../../src/engine/attempt.js';
import { openOrch } from '../../src/engine/context.js';
import { addTask } from '../../src/engine/tasks.js';
import { createApp } from '../../src/server/app.js';
import { startServer } from '../../src/server/serve.js';
import { orch as orchCli } from '../helpers/cli.js';
import { git, makeRepo, tempDir } from '../helpers/git.js';
import { cliAvailable, cliPath, missingCliMessage } from '../rig/agent-clis.js';
import type { Script } from '../rig/fake-model/script.js';
import { startFakeModelServer } from '../rig/fake-model/server.js';

const TOKEN = 'b'.repeat(64);
const DENIED_COMMAND = 'git push origin HEAD:refs/heads/elsewhere';
const APPROVED_COMMAND = `node -e "require('fs').writeFileSync('approved.txt', 'yes')"`;
const contractBlock = (summary: string) => ['All done.', '```json', JSON.stringify({ status: 'done', summary, remaining: '', follow_ups: [] }), '```'].join('\n');

beforeAll(() => {
  if (!cliAvailable('claude')) throw new Error(missingCliMessage('claude'));
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('approvals with the real claude CLI', () => {
  it('denies one command by rule, lets a person approve another over HTTP, and the run finishes', async () => {
    const script: Script = [
      { text: 'Pushing first.', tools: [{ tool: 'shell', command: DENIED_COMMAND }] },
      { text: 'Then writing a file with node.', tools: [{ tool: 'shell', command: APPROVED_COMMAND }] },
      { text: contractBlock('pushed nothing, wrote approved.txt') },
    ];
    const model = await startFakeModelServer({ script });
    cleanups.push(() => model.close());
    const scratch = tempDir('orch-e2e-');
    cleanups.push(scratch.cleanup);
    const repo = makeRepo(scratch.path, 'app');
    const checkout = join(scratch.path, 'checkout');
    git(scratch.path, ['clone', '-q', repo, checkout]);
    const home = join(scratch.path, 'home');
    mkdirSync(home);
    const config = {
      agents: {
        claude: {
          kind: 'claude',
          command: cliPath('claude'),
          model: 'fake-model',
          env: [`ANTHROPIC_BASE_URL=${model.url}`, 'ANTHROPIC_API_KEY=fake-key', 'CLAUDE_CODE_MAX_RETRIES=0', 'DISABLE_AUTOUPDATER=1'],
        },
      },
      projects: { app: { path: checkout, agents: ['claude'], approvals: { enabled: true, deny: ['Bash(git push*)'], timeout_s: 3600 } } },
    };
    writeFileSync(join(home, 'config.yaml'), JSON.stringify(config, null, 2));
    const orch = await openOrch(home);
    cleanups.push(() => orch.close());
    const app = createApp({ orch, token: TOKEN, requestTick: () => undefined, tickStats: () => ({ lastTickMs: null, lastTickAt: null, ticks: 0 }), dashboardDir: null });
    const server = await startServer(app, { port: 0 });
    cleanups.push(() => server.close());
    const call = (path: string, body?: unknown) =>
      fetch(`${server.url}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { Authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    const task = await addTask(orch.store, { project: 'app', title: 'Push, then write a file', body: 'Follow the plan.' }, orch.now());
    const running = runAttempt(orch, task.id, { cwd: repo, agent: 'claude', sourceEnv: { PATH: process.env.PATH } });
    let finished = false;
    void running.finally(() => (finished = true)).catch(() => undefined);

    // The person: looks at the inbox as the dashboard does until the agent's request shows, approves it.
    let pending: Approval[] = [];
    while (pending.length === 0 && !finished) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      pending = (await (await call('/approvals')).json()) as Approval[];
    }
    expect(pending).toMatchObject([{ kind: 'permission', tool: 'Bash', input: { command: APPROVED_COMMAND }, state: 'pending', taskId: task.id }]);
    const approved = await call(`/approvals/${pending[0]!.id}/approve`, { reason: 'a local file is fine' });
    expect(approved.status).toBe(200);
    expect(await approved.json()).toMatchObject({ state: 'allowed', decidedBy: 'person', reason: 'a local file is fine' });

    const { run } = await running;
    expect(run.outcome, JSON.stringify(run.result)).toBe('succeeded');
    expect(readFileSync(join(repo, 'approved.txt'), 'utf8')).toBe('yes');
    const decided = await orch.store.listApprovals({ runId: run.id });
    expect(decided.map((a) => [a.tool, (a.input as { command: string }).command, a.state, a.decidedBy])).toEqual([
      ['Bash', DENIED_COMMAND, 'denied', 'rule'],
      ['Bash', APPROVED_COMMAND, 'allowed', 'person'],
    ]);
    // The model heard the rule's refusal as the denied tool's result.
    expect(JSON.stringify(model.requests.filter((r) => r.kind === 'turn').at(1)?.body)).toContain('denied by rule Bash(git push*)');
    expect((await (await call('/approvals')).json()) as Approval[]).toEqual([]);

    const log = orchCli(['log', String(task.id)], { cwd: scratch.path, home });
    expect(log.code, log.stderr).toBe(0);
    expect(log.stdout).toContain(`approval #${decided[0]!.id}: denied by rule: denied by rule Bash(git push*)`);
    expect(log.stdout).toContain(`approval #${decided[1]!.id}: allowed by person: a local file is fine`);
  });
});
