import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '../../src/core/approvals.js';
import type { OrchEvent, Run, Task } from '../../src/core/types.js';
import { openOrch } from '../../src/engine/context.js';
import { CLI, orch } from '../helpers/cli.js';
import { makeRepo, tempDir } from '../helpers/git.js';

const TOOL_NAMES = ['list_tasks', 'show_task', 'add_task', 'retry_task', 'cancel_task', 'status', 'costs', 'list_approvals', 'approve_request', 'deny_request', 'answer_question'];

let scratch: { path: string; cleanup: () => void };
let home: string;
let shop: string;
let client: Client;
let serverStderr = '';
const clientErrors: Error[] = [];

/** The built `orch mcp`, spoken to by the SDK's own client over the child's stdin and stdout. */
async function connect(cwd: string, orchHome: string): Promise<Client> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp'], cwd, env: { ...process.env, ORCH_HOME: orchHome, NO_COLOR: '1' } as Record<string, string>, stderr: 'pipe' });
  transport.stderr?.on('data', (chunk: Buffer) => (serverStderr += chunk.toString()));
  const mcp = new Client({ name: 'orch-test', version: '1.0.0' });
  // A line on stdout that is not protocol would surface here.
  mcp.onerror = (error) => clientErrors.push(error);
  await mcp.connect(transport);
  return mcp;
}

const call = async (name: string, args: Record<string, unknown> = {}, on: Client = client) => (await on.callTool({ name, arguments: args })) as CallToolResult;

const texts = (result: CallToolResult) => result.content.map((c) => (c.type === 'text' ? c.text : ''));

/** A successful call's data: the JSON of its second text block. */
function dataOf<T>(result: CallToolResult): T {
  expect(result.isError ?? false, texts(result).join('\n')).toBe(false);
  return JSON.parse(texts(result)[1]!) as T;
}

/** A refused call: a tool error whose whole text is one line. */
function errorOf(result: CallToolResult): string {
  expect(result.isError).toBe(true);
  expect(result.content).toHaveLength(1);
  const [text] = texts(result);
  expect(text!.split('\n')).toHaveLength(1);
  return text!;
}

function storedTask(id: number): { title: string; body: string; state: string; priority: number; project: string; labels: string } | undefined {
  const db = new Database(join(home, 'orch.db'), { readonly: true });
  try {
    return db.prepare('select title, body, state, priority, project, labels from tasks where id = ?').get(id) as ReturnType<typeof storedTask>;
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  scratch = tempDir();
  home = join(scratch.path, 'home');
  shop = makeRepo(scratch.path, 'shop');
  expect(orch(['init'], { cwd: shop, home }).code).toBe(0);
  expect(orch(['project', 'add', makeRepo(scratch.path, 'blog')], { cwd: shop, home }).code).toBe(0);
  client = await connect(shop, home);
});

afterAll(async () => {
  await client?.close();
  scratch?.cleanup();
});

describe('orch mcp over stdio, spoken to by the SDK client', () => {
  it('answers initialize with its name, version, tools capability and instructions', () => {
    const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    expect(client.getServerVersion()).toMatchObject({ name: 'orch', version });
    expect(client.getServerCapabilities()?.tools).toBeDefined();
    expect(client.getInstructions()).toContain('add_task');
  });

  it('lists its tools with their input schemas', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(TOOL_NAMES);
    const byName = new Map(tools.map((t) => [t.name, t]));
    const add = byName.get('add_task')!;
    expect(add.inputSchema.required).toEqual(['title']);
    expect(Object.keys(add.inputSchema.properties ?? {})).toEqual(['project', 'title', 'body', 'labels', 'priority', 'role', 'parent', 'depends_on']);
    expect(add.inputSchema.properties?.role).toMatchObject({ type: 'string', enum: ['implement', 'test', 'review', 'plan', 'fix'] });
    expect(add.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: false });
    const list = byName.get('list_tasks')!;
    expect(Object.keys(list.inputSchema.properties ?? {})).toEqual(expect.arrayContaining(['project', 'state', 'limit']));
    expect(list.inputSchema.properties?.limit).toMatchObject({ type: 'integer', minimum: 1 });
    expect(list.annotations?.readOnlyHint).toBe(true);
    expect(byName.get('show_task')!.inputSchema.required).toEqual(['id']);
    expect(byName.get('retry_task')!.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: false });
    expect(byName.get('cancel_task')!.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    for (const tool of tools) expect(tool.description, tool.name).toBeTruthy();
  });

  it('adds a task that list_tasks then shows and the store holds', async () => {
    const added = await call('add_task', { project: 'shop', title: 'Fix the login form', body: 'It rejects valid emails.', labels: ['bug'], priority: 'high' });
    expect(texts(added)[0]).toMatch(/^Added #\d+ to shop \(new\): Fix the login form$/);
    const task = dataOf<Task>(added);
    expect(task).toMatchObject({ project: 'shop', title: 'Fix the login form', state: 'new', priority: 1, labels: ['bug'], role: 'implement' });
    expect(storedTask(task.id)).toEqual({ title: 'Fix the login form', body: 'It rejects valid emails.', state: 'new', priority: 1, project: 'shop', labels: '["bug"]' });

    const listed = dataOf<{ tasks: Task[]; total: number }>(await call('list_tasks', { project: 'shop' }));
    expect(listed.tasks.map((t) => t.id)).toContain(task.id);
    expect(dataOf<{ tasks: Task[] }>(await call('list_tasks', { project: 'blog' })).tasks).toEqual([]);
    expect(dataOf<{ tasks: Task[] }>(await call('list_tasks', { state: ['running', 'done'] })).tasks).toEqual([]);
    // The CLI reads the same store.
    expect(orch(['task', 'list', '--json'], { cwd: shop, home }).json<Task[]>().map((t) => t.title)).toContain('Fix the login form');
  });

  it('adds to the project holding the directory it was started in when none is named', async () => {
    const task = dataOf<Task>(await call('add_task', { title: 'Write the changelog', role: 'plan', priority: 3 }));
    expect(task).toMatchObject({ project: 'shop', role: 'plan', priority: 3 });
  });

  it('limits a list to the newest tasks and says how many there are', async () => {
    const before = dataOf<{ total: number }>(await call('list_tasks')).total;
    const last = dataOf<Task>(await call('add_task', { project: 'blog', title: 'Draft a post' }));
    const listed = await call('list_tasks', { limit: 1 });
    expect(dataOf<{ tasks: Task[]; total: number }>(listed)).toMatchObject({ tasks: [expect.objectContaining({ id: last.id })], total: before + 1 });
    expect(texts(listed)[0]).toBe(`The newest 1 of ${before + 1} tasks.`);
  });

  it('shows a task with its runs and latest events', async () => {
    const task = dataOf<Task>(await call('add_task', { project: 'shop', title: 'Add a dark mode', labels: ['ui'] }));
    const shown = await call('show_task', { id: task.id });
    expect(texts(shown)[0]).toBe(`#${task.id} Add a dark mode (new), project shop, 0 attempt(s), $0.00`);
    const detail = dataOf<{ task: Task; runs: Run[]; claim: unknown; routing: unknown; events: OrchEvent[] }>(shown);
    expect(detail.task).toMatchObject({ id: task.id, title: 'Add a dark mode' });
    expect(detail.runs).toEqual([]);
    expect(detail.claim).toBeNull();
    expect(detail.events.map((e) => e.type)).toContain('task.created');
    expect(dataOf<{ events: OrchEvent[] }>(await call('show_task', { id: task.id, events: 0 })).events).toEqual([]);
  });

  it('cancels and retries a task through the engine, refusing moves that do not apply', async () => {
    const task = dataOf<Task>(await call('add_task', { project: 'shop', title: 'Drop the old API' }));
    const cancelled = await call('cancel_task', { id: task.id, reason: 'not needed after all' });
    expect(texts(cancelled)[0]).toBe(`Cancelled #${task.id}: Drop the old API`);
    expect(dataOf<Task>(cancelled).state).toBe('cancelled');
    expect(storedTask(task.id)?.state).toBe('cancelled');
    expect(errorOf(await call('cancel_task', { id: task.id }))).toBe(`task ${task.id} is already cancelled`);

    // Finished tasks are left out of the default list, and it says so.
    const open = await call('list_tasks', { project: 'shop' });
    expect(dataOf<{ tasks: Task[] }>(open).tasks.map((t) => t.id)).not.toContain(task.id);
    expect(texts(open)[0]).toContain('1 finished task(s) (done or cancelled) not shown');
    expect(dataOf<{ tasks: Task[] }>(await call('list_tasks', { state: 'cancelled' })).tasks.map((t) => t.id)).toEqual([task.id]);

    const retried = await call('retry_task', { id: task.id });
    expect(texts(retried)[0]).toBe(`Queued #${task.id} again (new): Drop the old API`);
    expect(storedTask(task.id)?.state).toBe('new');
    expect(errorOf(await call('retry_task', { id: task.id }))).toBe(`task ${task.id} is already queued to run`);

    const events = dataOf<{ events: OrchEvent[] }>(await call('show_task', { id: task.id })).events;
    expect(events.find((e) => e.data.reason === 'not needed after all')).toBeDefined();
  });

  it('reports status and costs', async () => {
    const status = dataOf<{ version: string; slots: { running: number }; projects: { name: string; configured: boolean; tasks: Record<string, number> }[] }>(await call('status'));
    expect(status.slots.running).toBe(0);
    expect(status.projects.map((p) => p.name).sort()).toEqual(['blog', 'shop']);
    expect(status.projects.find((p) => p.name === 'blog')?.tasks.new).toBe(1);

    const today = await call('costs');
    expect(texts(today)[0]).toBe('$0.00 over 0 run(s) today.');
    expect(dataOf(today)).toMatchObject({ by: 'project', rows: [], total: { runs: 0, costUsd: 0 }, since: 'today' });
    expect(dataOf(await call('costs', { since: '2026-01-01', by: 'agent', project: 'shop' }))).toMatchObject({ by: 'agent', since: '2026-01-01', project: 'shop' });
    expect(errorOf(await call('costs', { since: 'yesterday' }))).toBe('"yesterday" is not a date: use YYYY-MM-DD');
    expect(errorOf(await call('costs', { project: 'nope' }))).toBe('project "nope" not found');
  });

  it("lists agents' waiting requests and questions, and answers them as a person", async () => {
    const store = await openOrch(home);
    let ids: number[];
    try {
      const task = (await store.store.createTask({ project: 'shop', title: 'Asks first' }, Date.now(), { type: 'task.created' }))!;
      const claim = (await store.store.claimTask({ taskId: task.id, owner: 'test:1', leaseMs: 60_000, now: Date.now() }))!;
      const run = await store.store.createRun({ taskId: task.id, project: 'shop', attempt: 1, agent: 'claude', startedAt: Date.now() }, claim.token);
      const ask = (kind: 'permission' | 'question', tool: string | null, question: string | null) =>
        store.store.createApproval({ project: 'shop', taskId: task.id, runId: run.id, kind, tool, input: tool ? { command: 'make deploy' } : null, question }, Date.now());
      ids = [(await ask('permission', 'Bash', null)).id, (await ask('permission', 'Bash', null)).id, (await ask('question', null, 'Which region?')).id];
    } finally {
      await store.close();
    }
    const pending = dataOf<Approval[]>(await call('list_approvals'));
    expect(pending.map((a) => a.id)).toEqual(ids);
    expect(texts(await call('list_approvals'))[0]).toContain('asks: Which region?');
    expect(dataOf<Approval>(await call('approve_request', { id: ids[0], reason: 'staging only' }))).toMatchObject({ state: 'allowed', decidedBy: 'person', reason: 'staging only' });
    expect(dataOf<Approval>(await call('deny_request', { id: ids[1] }))).toMatchObject({ state: 'denied', decidedBy: 'person' });
    expect(dataOf<Approval>(await call('answer_question', { id: ids[2], answer: 'eu-west-1' }))).toMatchObject({ state: 'answered', reason: 'eu-west-1' });
    expect(dataOf<Approval[]>(await call('list_approvals'))).toEqual([]);
    expect(errorOf(await call('deny_request', { id: ids[0] }))).toMatch(/already decided \(allowed by person\)/);
    expect(errorOf(await call('approve_request', { id: 99_999 }))).toMatch(/approval #99999 not found/);
  });

  it('refuses bad input with a one-line tool error and keeps answering', async () => {
    expect(errorOf(await call('add_task', { project: 'nope', title: 'Anything' }))).toBe('project "nope" not found');
    expect(errorOf(await call('add_task', { project: 'shop', title: '   ' }))).toBe('a task needs a title');
    expect(errorOf(await call('add_task', { project: 'shop', title: 'Two\nlines' }))).toBe('a task title must be one line (put details in the body)');
    expect(errorOf(await call('add_task', { project: 'shop', title: 'Parent missing', parent: 9999 }))).toBe('parent task 9999 not found');
    expect(errorOf(await call('add_task', { project: 'shop', labels: 'bug', role: 'boss' }))).toBe(
      'add_task: title: expected the title as a string; labels: Invalid input: expected array, received string; role: expected one of implement, test, review, plan, fix',
    );
    expect(errorOf(await call('show_task', { id: 9999 }))).toBe('task 9999 not found');
    expect(errorOf(await call('show_task', { id: -3 }))).toBe('show_task: id: expected a positive task id');
    expect(errorOf(await call('list_tasks', { project: 'nope' }))).toBe('project "nope" not found');
    expect(errorOf(await call('list_tasks', { state: 'sleeping' }))).toMatch(/^list_tasks: state: /);
    expect(errorOf(await call('launch_rockets'))).toBe(`unknown tool "launch_rockets": use one of ${TOOL_NAMES.join(', ')}`);

    // Nothing was written by the refusals, and the server still answers.
    expect(dataOf<{ tasks: Task[] }>(await call('list_tasks', { all: true })).tasks.map((t) => t.title)).not.toContain('Parent missing');
    expect(dataOf<{ projects: unknown[] }>(await call('status')).projects).toHaveLength(2);
    expect(clientErrors).toEqual([]);
    expect(serverStderr).toContain('orch mcp: serving');
  });

  it('asks for `orch init` when ORCH_HOME is not initialised, without failing to start', async () => {
    const bare = await connect(shop, join(scratch.path, 'empty-home'));
    try {
      expect(errorOf(await call('list_tasks', {}, bare))).toBe(`Orch is not initialised in ${join(scratch.path, 'empty-home')}: run \`orch init\` first`);
      expect((await bare.listTools()).tools).toHaveLength(TOOL_NAMES.length);
    } finally {
      await bare.close();
    }
  });

  it('ends when the client closes its end of stdin', async () => {
    const child = spawn(process.execPath, [CLI, 'mcp'], { cwd: shop, env: { ...process.env, ORCH_HOME: home }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.stdin.end();
    expect(await exited).toBe(0);
    // Not a byte on stdout that is not protocol.
    expect(stdout).toBe('');
  });
});
