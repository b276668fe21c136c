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

/** A project with approvals on whose claude talks to a fake model playing `script`, its run started, and an HTTP API beside it. */
async function world(script: Script, approvals: Record<string, unknown>) {
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
    projects: { app: { path: checkout, agents: ['claude'], approvals: { enabled: true, ...approvals } } },
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
  return { model, scratch, repo, home, orch, call };
}

/** The person: looks at the inbox as the dashboard does until something waits (or the run ended). */
async function inbox(call: (path: string) => Promise<Response>, finished: () => boolean): Promise<Approval[]> {
  let pending: Approval[] = [];
  while (pending.length === 0 && !finished()) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    pending = (await (await call('/approvals')).json()) as Approval[];
  }
  return pending;
}

describe('approvals with the real claude CLI', () => {
  it('denies one command by rule, lets a person approve another over HTTP, and the run finishes', async () => {
    const script: Script = [
      { text: 'Pushing first.', tools: [{ tool: 'shell', command: DENIED_COMMAND }] },
      { text: 'Then writing a file with node.', tools: [{ tool: 'shell', command: APPROVED_COMMAND }] },
      { text: contractBlock('pushed nothing, wrote approved.txt') },
    ];
    const { model, scratch, repo, home, orch, call } = await world(script, { deny: ['Bash(git push*)'], timeout_s: 3600 });

    const task = await addTask(orch.store, { project: 'app', title: 'Push, then write a file', body: 'Follow the plan.' }, orch.now());
    const running = runAttempt(orch, task.id, { cwd: repo, agent: 'claude', sourceEnv: { PATH: process.env.PATH } });
    let finished = false;
    void running.finally(() => (finished = true)).catch(() => undefined);

    const pending = await inbox(call, () => finished);
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

  it("puts the agent's question to a person and its answer back into the run; unanswered, 'no answer'", async () => {
    const ask = (question: string) => ({ tool: 'named' as const, name: 'mcp__orch__ask_person', input: { question } });
    const script: Script = [
      { text: 'Asking first.', tools: [ask('Which port should the server listen on?')] },
      { text: 'And once more.', tools: [ask('Anyone still there?')] },
      { text: contractBlock('asked twice') },
    ];
    // The second question waits out the timeout, nobody answering it; the first is answered long before.
    const { model, repo, orch, call } = await world(script, { timeout_s: 10 });
    const task = await addTask(orch.store, { project: 'app', title: 'Ask a person' }, orch.now());
    const running = runAttempt(orch, task.id, { cwd: repo, agent: 'claude', sourceEnv: { PATH: process.env.PATH } });
    let finished = false;
    void running.finally(() => (finished = true)).catch(() => undefined);

    const [question] = await inbox(call, () => finished);
    expect(question).toMatchObject({ kind: 'question', question: 'Which port should the server listen on?' });
    expect((await call(`/approvals/${question!.id}/answer`, { answer: 'port 8080' })).status).toBe(200);

    const { run } = await running;
    expect(run.outcome, JSON.stringify(run.result)).toBe('succeeded');
    expect((await orch.store.listApprovals({ runId: run.id })).map((a) => [a.question, a.state, a.decidedBy])).toEqual([
      ['Which port should the server listen on?', 'answered', 'person'],
      ['Anyone still there?', 'timed_out', 'timeout'],
    ]);
    // What the model heard back: the answer, then "no answer".
    const turns = model.requests.filter((r) => r.kind === 'turn').map((r) => JSON.stringify(r.body));
    expect(turns[1]).toContain('port 8080');
    expect(turns[2]).toContain('no answer');
  });
});
