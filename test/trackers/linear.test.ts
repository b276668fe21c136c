// The Linear tracker with plain fetch against the fake Linear (test/rig/fake-linear), which executes
// every request against Linear's GraphQL schema, so a field or argument Linear does not have fails here
// as it would there.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLinearTracker, LinearTracker, type LinearTrackerOptions } from '../../src/trackers/linear.js';
import { STATUS_MARKER } from '../../src/trackers/issue-conventions.js';
import { TrackerError, type StatusReport, type SyncResult, type TrackedIssue } from '../../src/trackers/tracker.js';
import { startFakeLinear, type FakeLinear } from '../rig/fake-linear/server.js';
import type { IssueRecord, LinearWorkspace, NewIssue } from '../rig/fake-linear/state.js';

const KEY = 'lin_api_testKeyThatMustNeverLeak';

let fake: FakeLinear;
let ws: LinearWorkspace;

beforeEach(async () => {
  fake = await startFakeLinear({ apiKey: KEY });
  ws = fake.workspace;
  ws.addTeam('ENG');
});

afterEach(async () => {
  expect(fake.failures).toEqual([]);
  // Every document the tracker sent was one Linear's schema accepts.
  const schemaRefusals = ['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT', 'INTERNAL_SERVER_ERROR'];
  expect(fake.requests.flatMap((request) => request.errorCodes).filter((code) => schemaRefusals.includes(code))).toEqual([]);
  await fake.close();
});

function tracker(options: Partial<LinearTrackerOptions> = {}): LinearTracker {
  return new LinearTracker({ team: 'ENG', labels: ['orch'], apiKey: KEY, apiUrl: fake.url, now: () => fake.clock.now(), ...options });
}

function issue(fields: Partial<NewIssue> & { title: string }): IssueRecord {
  return ws.addIssue({ team: 'ENG', labels: ['orch'], ...fields });
}

const ref = (record: IssueRecord) => `linear:${ws.identifier(record)}`;
const byRef = (result: SyncResult) => new Map(result.issues.map((tracked) => [tracked.ref, tracked]));
const titles = (issues: TrackedIssue[]) => issues.map((tracked) => tracked.title).sort();
const sent = (operation: string) => fake.requests.filter((request) => request.operationName === operation);

function status(fields: Partial<StatusReport> = {}): StatusReport {
  return { state: 'running', summary: 'Working on it.', agent: 'claude', complexity: 'medium', attempts: 1, costUsd: 0.25, pullRequestUrl: null, ...fields };
}

function stateOf(record: IssueRecord): string {
  return ws.states.get(record.stateId)?.name ?? '?';
}

describe('sync: which issues', () => {
  it('returns the team\'s issues in a ready state that carry the labels, mapped', async () => {
    ws.addTeam('OPS');
    const fix = issue({ title: 'Fix login', description: 'It fails on Safari.', labels: ['orch', 'role:fix'], priority: 2 });
    issue({ title: 'Unlabelled', labels: ['bug'] });
    issue({ title: 'In the backlog', state: 'Backlog' });
    issue({ title: 'Being worked on', state: 'In Progress' });
    issue({ title: 'Done already', state: 'Done' });
    ws.addIssue({ team: 'OPS', title: 'Another team', labels: ['orch'] });

    const result = await tracker().sync(null);

    expect(titles(result.issues)).toEqual(['Fix login']);
    const [tracked] = result.issues;
    expect({ ...tracked, labels: [...(tracked?.labels ?? [])].sort() }).toEqual({
      ref: ref(fix),
      title: 'Fix login',
      body: 'It fails on Safari.',
      labels: ['orch', 'role:fix'],
      priority: 3,
      role: 'fix',
      dependsOn: [],
      parent: null,
      ready: true,
      readyButForDependencies: false,
      closed: false,
      held: null,
      url: `https://linear.app/acme/issue/${ws.identifier(fix)}/fix-login`,
      updatedAt: fix.updatedAt,
    });
    expect(result.cursor).not.toBeNull();
    expect(result.notBefore).toBeNull();
  });

  it('needs every configured label, in any case, and takes the configured ready states', async () => {
    const team = ws.addTeam('WEB', {
      states: [
        { name: 'Triage', type: 'triage' },
        { name: 'Ready', type: 'unstarted' },
        { name: 'Todo', type: 'unstarted' },
        { name: 'Doing', type: 'started' },
        { name: 'Shipped', type: 'completed' },
      ],
    });
    const add = (title: string, state: string, labels: string[]) => ws.addIssue({ team: team.key, title, state, labels });
    add('both labels, ready', 'Ready', ['Orch', 'backend']);
    add('both labels, todo', 'Todo', ['orch', 'BACKEND']);
    add('one label', 'Ready', ['orch']);
    add('triage', 'Triage', ['orch', 'backend']);
    const result = await tracker({ team: 'WEB', labels: ['orch', 'backend'], states: ['ready', 'Todo'] }).sync(null);
    expect(titles(result.issues)).toEqual(['both labels, ready', 'both labels, todo']);
  });

  it('takes every issue of the team in a ready state when no labels are configured', async () => {
    issue({ title: 'labelled' });
    issue({ title: 'bare', labels: [] });
    expect(titles((await tracker({ labels: [] }).sync(null)).issues)).toEqual(['bare', 'labelled']);
  });

  it('reads every page of a long list', async () => {
    for (let index = 0; index < 23; index++) issue({ title: `issue ${index}` });
    const result = await tracker({ pageSize: 10 }).sync(null);
    expect(new Set(result.issues.map((tracked) => tracked.ref)).size).toBe(23);
    expect(sent('OrchIssues')).toHaveLength(3);
  });
});

describe('sync: priority and role', () => {
  it('maps Linear\'s priority so urgent runs first and no priority last', async () => {
    const levels = { none: 0, urgent: 1, high: 2, medium: 3, low: 4 };
    for (const [title, priority] of Object.entries(levels)) issue({ title, priority });
    const result = await tracker().sync(null);
    const ordered = [...result.issues].sort((a, b) => b.priority - a.priority);
    expect(ordered.map((tracked) => [tracked.title, tracked.priority])).toEqual([
      ['urgent', 4],
      ['high', 3],
      ['medium', 2],
      ['low', 1],
      ['none', 0],
    ]);
  });

  it('reads the role from a role:<name> label and ignores unknown roles', async () => {
    issue({ title: 'tests', labels: ['orch', 'Role: Test'] });
    issue({ title: 'wizardry', labels: ['orch', 'role:wizard'] });
    const result = await tracker().sync(null);
    expect(result.issues.find((tracked) => tracked.title === 'tests')?.role).toBe('test');
    expect(result.issues.find((tracked) => tracked.title === 'wizardry')?.role).toBeNull();
  });
});

describe('sync: incremental', () => {
  it('returns nothing new when nothing changed, then only what changed', async () => {
    const first = issue({ title: 'first' });
    const second = issue({ title: 'second' });
    const orch = tracker();
    const initial = await orch.sync(null);
    expect(initial.issues).toHaveLength(2);

    const quiet = await orch.sync(initial.cursor);
    expect(quiet.issues).toEqual([]);
    const lastFilter = sent('OrchIssues').at(-1)?.variables.filter as Record<string, unknown>;
    expect(lastFilter.updatedAt).toEqual({ gte: new Date(second.updatedAt).toISOString() });

    ws.updateIssue(ws.identifier(first), { title: 'first, edited' });
    const third = issue({ title: 'third' });
    const changed = await orch.sync(quiet.cursor);
    expect(titles(changed.issues)).toEqual(['first, edited', 'third']);
    expect(byRef(changed).get(ref(third))).toMatchObject({ ready: true, closed: false });
  });

  it('follows the issues it handed out wherever they move, and leaves others alone', async () => {
    const orch = tracker();
    const todo = issue({ title: 'todo' });
    const finished = issue({ title: 'finished' });
    const dropped = issue({ title: 'dropped' });
    const moved = issue({ title: 'moved' });
    const unlabelled = issue({ title: 'unlabelled' });
    const backlog = issue({ title: 'backlog', state: 'Backlog' });
    const done = issue({ title: 'done elsewhere', state: 'In Progress' });
    const start = await orch.sync(null);
    expect(titles(start.issues)).toEqual(['dropped', 'finished', 'moved', 'todo', 'unlabelled']);

    ws.updateIssue(ws.identifier(todo), { state: 'Backlog' });
    ws.updateIssue(ws.identifier(finished), { state: 'Done' });
    ws.updateIssue(ws.identifier(dropped), { state: 'Canceled' });
    ws.addTeam('OPS');
    const movedRef = ref(moved);
    ws.updateIssue(ws.identifier(moved), { team: 'OPS' });
    ws.updateIssue(ws.identifier(unlabelled), { labels: ['bug'] });
    ws.updateIssue(ws.identifier(backlog), { title: 'backlog, edited' }); // never Orch's: stays out
    ws.updateIssue(ws.identifier(done), { state: 'Done' }); // never Orch's either
    const next = await orch.sync(start.cursor);
    const found = byRef(next);
    expect(titles(next.issues)).toEqual(['dropped', 'finished', 'moved', 'todo', 'unlabelled']);
    expect(found.get(ref(todo))).toMatchObject({ ready: false, closed: false });
    expect(found.get(ref(finished))).toMatchObject({ ready: false, closed: true, dependsOn: [] });
    expect(found.get(ref(dropped))).toMatchObject({ ready: false, closed: true });
    // Out of reach in another team (under the ref Orch knows, though Linear renamed it) or without the label.
    expect(movedRef).not.toBe(ref(moved));
    expect(found.get(movedRef)).toMatchObject({ ready: false, closed: true });
    expect(found.get(ref(unlabelled))).toMatchObject({ ready: false, closed: true });

    // A closed issue is no longer followed; a not-ready one still is, and comes back ready.
    ws.updateIssue(ws.identifier(finished), { title: 'finished, edited' });
    ws.updateIssue(ws.identifier(todo), { state: 'Todo' });
    const after = await orch.sync(next.cursor);
    expect(after.issues.map((tracked) => [tracked.title, tracked.ready])).toEqual([['todo', true]]);
  });

  it('sees an issue moved into a ready state, and a waiting one moved to another team as closed', async () => {
    ws.addTeam('OPS');
    const blocker = issue({ title: 'blocker', labels: [] });
    const waiting = issue({ title: 'waiting' });
    ws.addRelation(ws.identifier(blocker), ws.identifier(waiting));
    const later = issue({ title: 'later', state: 'Backlog' });
    const orch = tracker();
    const start = await orch.sync(null);
    expect(titles(start.issues)).toEqual(['waiting']);

    ws.updateIssue(ws.identifier(later), { state: 'Todo' });
    const waitingRef = ref(waiting);
    ws.updateIssue(ws.identifier(waiting), { team: 'OPS' });
    const next = await orch.sync(start.cursor);
    expect(next.issues.map((tracked) => [tracked.ref, tracked.ready, tracked.closed])).toEqual([
      [waitingRef, false, true],
      [ref(later), true, false],
    ]);
    const requests = sent('OrchIssues').length;
    await orch.sync(next.cursor);
    expect(sent('OrchIssues').length - requests).toBe(1); // no longer waiting: no recheck
  });

  it('hands out an issue updated in the same instant as the cursor, and the cursor\'s own issues once', async () => {
    const orch = tracker();
    const first = issue({ title: 'first' });
    const start = await orch.sync(null);
    const same = issue({ title: 'same instant' });
    same.updatedAt = first.updatedAt; // written after the read, within the same millisecond
    const next = await orch.sync(start.cursor);
    expect(titles(next.issues)).toEqual(['same instant']);
    expect((await orch.sync(next.cursor)).issues).toEqual([]);
  });

  it('starts over from an unreadable cursor', async () => {
    issue({ title: 'one' });
    expect(titles((await tracker().sync('not json')).issues)).toEqual(['one']);
  });
});

describe('sync: dependencies and sub-issues', () => {
  it('holds an issue a person moved out of the ready and working states, or labelled blocked, and not one in a state Orch moves it to', async () => {
    const started = issue({ title: 'started' });
    const orch = tracker();
    const first = await orch.sync(null);
    expect(byRef(first).get(ref(started))).toMatchObject({ ready: true, held: null });
    ws.updateIssue(ws.identifier(started), { state: 'In Progress' });
    expect(byRef(await orch.sync(first.cursor)).get(ref(started))).toMatchObject({ ready: false, closed: false, held: null });
    ws.updateIssue(ws.identifier(started), { state: 'Backlog' });
    const backlog = byRef(await orch.sync(first.cursor)).get(ref(started));
    expect(backlog).toMatchObject({ closed: false, held: 'it was moved to Backlog' });
    ws.updateIssue(ws.identifier(started), { state: 'Todo', labels: ['orch', 'blocked'] });
    expect(byRef(await orch.sync(first.cursor)).get(ref(started))).toMatchObject({ held: 'it carries the blocked label', readyButForDependencies: false });
  });

  it('waits for open issues that block it, not for closed ones or other relations', async () => {
    const openBlocker = issue({ title: 'schema first', labels: [] });
    const closedBlocker = issue({ title: 'long done', labels: [], state: 'Done' });
    const canceledBlocker = issue({ title: 'dropped', labels: [], state: 'Canceled' });
    const related = issue({ title: 'related', labels: [] });
    const blocked = issue({ title: 'blocked by others' });
    const blocking = issue({ title: 'blocks another' });
    for (const blocker of [openBlocker, closedBlocker, canceledBlocker]) ws.addRelation(ws.identifier(blocker), ws.identifier(blocked));
    ws.addRelation(ws.identifier(related), ws.identifier(blocked), 'related');
    ws.addRelation(ws.identifier(blocking), ws.identifier(related));

    const found = byRef(await tracker().sync(null));
    expect(found.get(ref(blocked))).toMatchObject({ ready: false, readyButForDependencies: true, closed: false, dependsOn: [ref(openBlocker)], held: `it is blocked by ${ref(openBlocker)}` });
    expect(found.get(ref(blocking))).toMatchObject({ ready: true, dependsOn: [] });
  });

  it('makes a parent wait for its open sub-issues and names the parent on a sub-issue', async () => {
    const parent = issue({ title: 'epic' });
    const open = issue({ title: 'part open', parent: ws.identifier(parent) });
    issue({ title: 'part done', parent: ws.identifier(parent), state: 'Done' });
    issue({ title: 'part canceled', parent: ws.identifier(parent), state: 'Canceled' });
    const found = byRef(await tracker().sync(null));
    expect(found.get(ref(parent))).toMatchObject({ ready: false, dependsOn: [ref(open)] });
    expect(found.get(ref(open))).toMatchObject({ ready: true, parent: ref(parent) });
  });

  it('looks again at waiting issues, so one comes back ready when its blocker closes', async () => {
    const blocker = issue({ title: 'infra work', labels: [] }); // not Orch's: its closing never shows in Orch's list
    const parent = issue({ title: 'epic' });
    const child = issue({ title: 'part', labels: [], parent: ws.identifier(parent) });
    const waiting = issue({ title: 'waits' });
    ws.addRelation(ws.identifier(blocker), ws.identifier(waiting));
    const orch = tracker();
    const start = await orch.sync(null);
    expect(byRef(start).get(ref(waiting))).toMatchObject({ ready: false, dependsOn: [ref(blocker)] });

    const unchanged = await orch.sync(start.cursor);
    expect(unchanged.issues).toEqual([]); // still waiting on the same: nothing to report

    ws.updateIssue(ws.identifier(blocker), { state: 'Done' });
    ws.updateIssue(ws.identifier(child), { state: 'Done' });
    const next = await orch.sync(unchanged.cursor);
    expect(next.issues.map((tracked) => [tracked.title, tracked.ready, tracked.dependsOn]).sort()).toEqual([
      ['epic', true, []],
      ['waits', true, []],
    ]);
    const requestsBefore = sent('OrchIssues').length;
    await orch.sync(next.cursor);
    expect(sent('OrchIssues').length - requestsBefore).toBe(1); // nothing waits any more: no recheck
  });
});

describe('claim', () => {
  it('takes an open issue, not a closed or missing one, and refuses another tracker\'s ref', async () => {
    const open = issue({ title: 'open' });
    const closed = issue({ title: 'closed', state: 'Done' });
    const orch = tracker();
    expect(await orch.claim(ref(open))).toBe(true);
    expect(await orch.claim(ref(closed))).toBe(false);
    expect(await orch.claim('linear:ENG-999')).toBe(false);
    await expect(orch.claim('github:acme/widgets#1')).rejects.toThrow(TrackerError);
  });
});

describe('report', () => {
  it('moves the issue through the workflow and keeps one status comment, edited in place', async () => {
    const target = issue({ title: 'ship it' });
    const orch = tracker();

    await orch.report(ref(target), status());
    expect(stateOf(target)).toBe('In Progress');
    const comments = ws.commentsOn(ws.identifier(target));
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toMatch(new RegExp(`^${STATUS_MARKER}\n\\*\\*Orch: running\\*\\* · agent \`claude\``));

    await orch.report(ref(target), status({ state: 'judging' }));
    expect(stateOf(target)).toBe('In Progress'); // judging maps to nothing: the issue stays
    await orch.report(ref(target), status({ state: 'needs_review', summary: 'The tests fail on CI.' }));
    expect(stateOf(target)).toBe('In Review');
    await orch.report(ref(target), status({ state: 'done', summary: 'Merged.', attempts: 2 }));
    expect(stateOf(target)).toBe('Done');

    const after = ws.commentsOn(ws.identifier(target));
    expect(after).toHaveLength(1);
    expect(after[0]?.body).toMatch(/\*\*Orch: done\*\* · agent `claude` · complexity `medium` · 2 attempts · \$0\.25\n\nMerged\./);
    expect(sent('OrchCreateComment')).toHaveLength(1);
    expect(sent('OrchUpdateComment')).toHaveLength(3);
  });

  it('writes nothing when nothing changed', async () => {
    const target = issue({ title: 'steady' });
    const orch = tracker();
    await orch.report(ref(target), status());
    const writes = () => sent('OrchMoveIssue').length + sent('OrchCreateComment').length + sent('OrchUpdateComment').length;
    const before = writes();
    await orch.report(ref(target), status());
    expect(writes()).toBe(before);
  });

  it('never moves an issue a person has closed', async () => {
    const target = issue({ title: 'closed by hand', state: 'Done' });
    await tracker().report(ref(target), status({ state: 'cancelled', summary: 'The issue was closed.' }));
    expect(stateOf(target)).toBe('Done');
    expect(sent('OrchMoveIssue')).toEqual([]);
    expect(ws.commentsOn(ws.identifier(target))).toHaveLength(1);
  });

  it('never moves an issue into another team\'s workflow', async () => {
    ws.addTeam('OPS');
    const target = issue({ title: 'moved away' });
    ws.updateIssue(ws.identifier(target), { team: 'OPS' });
    await tracker().report(ref(target), status({ state: 'cancelled', summary: 'Moved out of reach.' }));
    expect(stateOf(target)).toBe('Todo');
    expect(sent('OrchMoveIssue')).toEqual([]);
  });

  it('takes the configured state_map; a task state left out moves nothing', async () => {
    const target = issue({ title: 'custom' });
    const orch = tracker({ stateMap: { running: 'in review' } });
    await orch.report(ref(target), status());
    expect(stateOf(target)).toBe('In Review');
    await orch.report(ref(target), status({ state: 'done' }));
    expect(stateOf(target)).toBe('In Review');
  });

  it('skips a workflow state the team lacks, with one warning, and still writes the comment', async () => {
    const team = ws.addTeam('LEAN', {
      states: [
        { name: 'Todo', type: 'unstarted' },
        { name: 'In Progress', type: 'started' },
        { name: 'Done', type: 'completed' },
      ],
    });
    const target = ws.addIssue({ team: team.key, title: 'lean', labels: ['orch'] });
    const warnings: string[] = [];
    const orch = tracker({ team: 'LEAN', onWarning: (message) => warnings.push(message) });
    await orch.report(ref(target), status({ state: 'needs_review' }));
    await orch.report(ref(target), status({ state: 'needs_review', summary: 'Still stuck.' }));
    expect(stateOf(target)).toBe('Todo');
    expect(warnings).toEqual([`Linear team LEAN has no workflow state "In Review" (state_map.needs_review); ${ws.identifier(target)} stays in "Todo"`]);
    expect(ws.commentsOn(ws.identifier(target))[0]?.body).toMatch(/Still stuck\./);
  });

  it('keeps a single status comment across restarts, even when the editor dropped the marker', async () => {
    const target = issue({ title: 'restarts' });
    ws.addComment(ws.identifier(target), 'A person\'s comment.');
    await tracker().report(ref(target), status());
    await tracker().report(ref(target), status({ state: 'needs_review', summary: 'Second process.' }));
    let ours = ws.commentsOn(ws.identifier(target)).filter((comment) => comment.body.includes('Orch:'));
    expect(ours).toHaveLength(1);
    expect(ours[0]?.body).toMatch(/Second process\./);

    const stripped = ours[0]?.body.replace(`${STATUS_MARKER}\n`, '') ?? '';
    ws.updateComment(ours[0]?.id ?? '', stripped);
    await tracker().report(ref(target), status({ state: 'done', summary: 'Third process.' }));
    ours = ws.commentsOn(ws.identifier(target)).filter((comment) => comment.body.includes('Orch:'));
    expect(ours).toHaveLength(1);
    expect(ours[0]?.body).toMatch(/Third process\./);
    expect(ws.commentsOn(ws.identifier(target))).toHaveLength(2);
  });

  it('finds its comment beyond the first page, writes a new one when it was deleted, and never two at once', async () => {
    const target = issue({ title: 'busy' });
    const orch = tracker();
    await orch.report(ref(target), status());
    for (let index = 0; index < 120; index++) ws.addComment(ws.identifier(target), `chatter ${index}`);
    await tracker().report(ref(target), status({ summary: 'Found it.' }));
    expect(sent('OrchComments').length).toBeGreaterThan(0);
    expect(ws.commentsOn(ws.identifier(target)).filter((comment) => comment.body.includes('Orch:'))).toHaveLength(1);

    const other = issue({ title: 'deleted' });
    await orch.report(ref(other), status());
    ws.deleteComment(ws.commentsOn(ws.identifier(other))[0]?.id ?? '');
    await orch.report(ref(other), status({ summary: 'Again.' }));
    expect(ws.commentsOn(ws.identifier(other)).map((comment) => comment.body)).toEqual([expect.stringMatching(/Again\./)]);

    const raced = issue({ title: 'raced' });
    await Promise.all([orch.report(ref(raced), status()), orch.report(ref(raced), status({ summary: 'Second.' }))]);
    expect(ws.commentsOn(ws.identifier(raced))).toHaveLength(1);
  });
});

describe('rate limits', () => {
  it('returns what it read with notBefore and keeps the cursor, then reads the rest: nothing lost', async () => {
    for (let index = 0; index < 25; index++) issue({ title: `issue ${index}` });
    const orch = tracker({ pageSize: 10 });
    fake.rateLimit.setRemaining(1); // one page, then the window is spent

    const slowed = await orch.sync(null);
    expect(slowed.issues).toHaveLength(10);
    expect(slowed.cursor).toBeNull();
    expect(slowed.notBefore).toBe(fake.rateLimit.resetsAt);
    expect(sent('OrchIssues')).toHaveLength(1); // it did not ask again before the reset

    fake.clock.advance(fake.rateLimit.resetsAt - fake.clock.now());
    const resumed = await orch.sync(slowed.cursor);
    expect(new Set([...slowed.issues, ...resumed.issues].map((tracked) => tracked.ref)).size).toBe(25);
    expect(resumed.notBefore).toBeNull();
  });

  it('honours a RATELIMITED refusal, as 400 or as 429, with the reset Linear names', async () => {
    const first = issue({ title: 'one' });
    const orch = tracker();
    const start = await orch.sync(null);
    ws.updateIssue(ws.identifier(first), { title: 'one, edited' });

    for (const refusal of [400, 429] as const) {
      fake.rateLimit.refuseNext(1, refusal);
      const refused = await orch.sync(start.cursor);
      expect(refused).toEqual({ issues: [], cursor: start.cursor, notBefore: fake.rateLimit.resetsAt });
      await expect(orch.sync(start.cursor)).resolves.toMatchObject({ issues: [], notBefore: fake.rateLimit.resetsAt });
      fake.clock.advance(fake.rateLimit.resetsAt - fake.clock.now());
    }
    expect(titles((await orch.sync(start.cursor)).issues)).toEqual(['one, edited']);
  });

  it('makes a report wait with retryAfterMs, then report once', async () => {
    const target = issue({ title: 'later' });
    const orch = tracker();
    fake.rateLimit.refuseNext(1);
    const error = await orch.report(ref(target), status()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TrackerError);
    expect((error as TrackerError).retryAfterMs).toBe(fake.rateLimit.resetsAt - fake.clock.now());
    expect((error as TrackerError).message).toMatch(/^Linear rate limit on OrchReportTarget \(400\): /);
    await expect(orch.report(ref(target), status())).rejects.toThrow(/not sending OrchReportTarget before/);

    fake.clock.advance(fake.rateLimit.resetsAt - fake.clock.now());
    await orch.report(ref(target), status());
    expect(ws.commentsOn(ws.identifier(target))).toHaveLength(1);
    expect(stateOf(target)).toBe('In Progress');
  });
});

describe('failures', () => {
  it('reports a refused API key as one line that never contains the key', async () => {
    const wrongKey = 'lin_api_wrongKeyThatMustNotLeakEither';
    const error = await tracker({ apiKey: wrongKey }).sync(null).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TrackerError);
    const message = (error as TrackerError).message;
    expect(message).toBe('Linear refused the API key on OrchIssues (400): Authentication required, not authenticated');
    expect(message).not.toContain(wrongKey);
    expect(message).not.toContain(KEY);
  });

  it('redacts the key even when Linear echoes it back', async () => {
    const echo: Server = createServer((request, response) => {
      response.writeHead(400, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ errors: [{ message: `bad key\n${request.headers.authorization}`, extensions: { code: 'AUTHENTICATION_ERROR' } }] }));
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(echo.address() as AddressInfo).port}/graphql`;
      const error = await tracker({ apiUrl: url }).claim('linear:ENG-1').catch((caught: unknown) => caught);
      expect((error as TrackerError).message).toBe('Linear refused the API key on OrchIssue (400): bad key ***');
    } finally {
      await new Promise<void>((resolve) => echo.close(() => resolve()));
    }
  });

  it('reports an unreachable Linear as one TrackerError line', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await tracker({ apiUrl: `http://127.0.0.1:${port}/graphql` }).sync(null).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TrackerError);
    expect((error as TrackerError).message).toMatch(/^Linear OrchIssues failed: fetch failed/);
    expect((error as TrackerError).message).not.toMatch(/\n/);
  });
});

describe('createLinearTracker', () => {
  const config = {
    kind: 'linear' as const,
    pollIntervalS: 30,
    team: 'ENG',
    labels: ['orch'],
    states: ['Todo'],
    stateMap: { running: 'In Progress' },
    tokenEnv: 'ENG_LINEAR_KEY',
    apiUrl: '',
  };

  it('reads the key from the variable the config names', async () => {
    issue({ title: 'from config' });
    const orch = createLinearTracker({ ...config, apiUrl: fake.url }, { env: { ENG_LINEAR_KEY: KEY }, now: () => fake.clock.now() });
    expect(orch.kind).toBe('linear');
    expect(titles((await orch.sync(null)).issues)).toEqual(['from config']);
  });

  it('refuses to start without a key, naming the variable', () => {
    expect(() => createLinearTracker({ ...config, apiUrl: fake.url }, { env: {} })).toThrow('Linear tracker for team ENG: no API key in $ENG_LINEAR_KEY');
  });
});
