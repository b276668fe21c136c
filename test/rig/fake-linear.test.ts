// The fake Linear itself, driven with plain fetch: it refuses what Linear's schema refuses (an unknown
// field, a wrong argument or variable type) the way Linear does, accepts every document the Linear
// tracker sends, checks the API key as Linear does, and serves the filters, cursors, mutations and rate
// limits the tracker relies on.

import { readFileSync } from 'node:fs';
import { GraphQLInputObjectType, parse, validate } from 'graphql';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LINEAR_DOCUMENTS } from '../../src/trackers/linear-queries.js';
import { IMPLEMENTED_FILTER_FIELDS } from './fake-linear/filters.js';
import { linearSchema, startFakeLinear, type FakeLinear } from './fake-linear/server.js';

const KEY = 'lin_api_fakeKeyForTheRig';

let fake: FakeLinear;

beforeEach(async () => {
  fake = await startFakeLinear({ apiKey: KEY });
  fake.workspace.addTeam('ENG');
});

afterEach(async () => {
  expect(fake.failures).toEqual([]);
  await fake.close();
});

interface Answer {
  status: number;
  headers: Headers;
  body: { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: string } }[] };
}

async function gql(query: string, variables: Record<string, unknown> = {}, authorization: string | null = KEY): Promise<Answer> {
  const response = await fetch(fake.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization === null ? {} : { authorization }) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Answer['body'] };
}

const codes = (answer: Answer) => (answer.body.errors ?? []).map((error) => error.extensions?.code);

describe('the schema', () => {
  it('says where it comes from and that it is a subset', () => {
    const header = readFileSync(new URL('./fake-linear/linear-schema.graphql', import.meta.url), 'utf8').split('\n').slice(0, 12).join('\n');
    expect(header).toMatch(/Linear's public GraphQL API/);
    expect(header).toMatch(/packages\/sdk\/src\/schema\.graphql/);
    expect(header).toMatch(/SUBSET/);
  });

  it('allows exactly the filter fields the fake evaluates', () => {
    for (const [type, fields] of Object.entries(IMPLEMENTED_FILTER_FIELDS)) {
      const input = linearSchema.getType(type);
      expect(input, type).toBeInstanceOf(GraphQLInputObjectType);
      expect(Object.keys((input as GraphQLInputObjectType).getFields()).sort(), type).toEqual([...fields].sort());
    }
  });

  it.each(Object.entries(LINEAR_DOCUMENTS))('validates the tracker document %s', (_name, document) => {
    expect(validate(linearSchema, parse(document)).map((error) => error.message)).toEqual([]);
  });
});

describe('refusing what Linear refuses', () => {
  it('answers an unknown field with 400 and errors, no data', async () => {
    const answer = await gql('query { issues(first: 5) { nodes { id estimateInHours } } }');
    expect(answer.status).toBe(400);
    expect(answer.body.data).toBeUndefined();
    expect(answer.body.errors?.[0]?.message).toMatch(/Cannot query field "estimateInHours" on type "Issue"/);
    expect(codes(answer)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  it('answers an argument of the wrong type or name with 400', async () => {
    expect((await gql('query { issues(first: "ten") { nodes { id } } }')).status).toBe(400);
    expect((await gql('query { issues(limit: 10) { nodes { id } } }')).status).toBe(400);
    const wrongFilter = await gql('query { issues(filter: { team: { key: { equals: "ENG" } } }) { nodes { id } } }');
    expect(wrongFilter.status).toBe(400);
    expect(wrongFilter.body.errors?.[0]?.message).toMatch(/equals/);
  });

  it('answers a variable of the wrong type with 400', async () => {
    const declared = await gql('query Q($first: String) { issues(first: $first) { nodes { id } } }', { first: '10' });
    expect(declared.status).toBe(400);
    const coerced = await gql('query Q($first: Int) { issues(first: $first) { nodes { id } } }', { first: 'ten' });
    expect(coerced.status).toBe(400);
    expect(codes(coerced)).toEqual(['BAD_USER_INPUT']);
  });

  it('answers a syntax error with 400', async () => {
    const answer = await gql('query { issues(first: 5) { nodes { id }');
    expect(answer.status).toBe(400);
    expect(codes(answer)).toEqual(['GRAPHQL_PARSE_FAILED']);
  });

  it('takes the API key as Linear does: `Authorization: <key>`, no scheme', async () => {
    const query = 'query { teams { nodes { key } } }';
    expect((await gql(query)).body.data).toEqual({ teams: { nodes: [{ key: 'ENG' }] } });
    for (const authorization of [null, `Bearer ${KEY}`, 'lin_api_wrong']) {
      const answer = await gql(query, {}, authorization);
      expect(answer.status).toBe(400);
      expect(codes(answer)).toEqual(['AUTHENTICATION_ERROR']);
      expect(JSON.stringify(answer.body)).not.toContain(KEY);
    }
  });

  it('answers an id that names nothing with Entity not found', async () => {
    const answer = await gql('query { issue(id: "ENG-404") { id } }');
    expect(answer.status).toBe(200);
    expect(answer.body.data).toBeNull();
    expect(answer.body.errors?.[0]).toMatchObject({ message: 'Entity not found: Issue', extensions: { code: 'INVALID_INPUT' } });
  });

  it('refuses a page larger than 250', async () => {
    const answer = await gql('query { issues(first: 251) { nodes { id } } }');
    expect(codes(answer)).toEqual(['INVALID_INPUT']);
  });
});

describe('serving the tracker', () => {
  it('filters issues by team, state, labels and update time', async () => {
    const ws = fake.workspace;
    ws.addTeam('OPS');
    const ready = ws.addIssue({ team: 'ENG', title: 'ready', labels: ['orch'], state: 'Todo' });
    ws.addIssue({ team: 'ENG', title: 'unlabelled', state: 'Todo' });
    ws.addIssue({ team: 'ENG', title: 'backlog', labels: ['orch'], state: 'Backlog' });
    ws.addIssue({ team: 'OPS', title: 'other team', labels: ['orch'], state: 'Todo' });
    const filter = {
      team: { key: { eqIgnoreCase: 'eng' } },
      and: [{ labels: { some: { name: { eqIgnoreCase: 'ORCH' } } } }, { or: [{ state: { name: { eqIgnoreCase: 'todo' } } }] }],
    };
    const answer = await gql('query Q($filter: IssueFilter) { issues(filter: $filter) { nodes { identifier title } } }', { filter });
    expect(answer.body.data).toEqual({ issues: { nodes: [{ identifier: ws.identifier(ready), title: 'ready' }] } });

    const since = new Date(ready.updatedAt + 1).toISOString();
    const later = ws.addIssue({ team: 'ENG', title: 'later', labels: ['orch'] });
    const changed = await gql('query Q($since: DateTimeOrDuration) { issues(filter: { updatedAt: { gte: $since } }) { nodes { title } } }', { since });
    expect(changed.body.data).toEqual({ issues: { nodes: [{ title: 'later' }, { title: 'other team' }, { title: 'backlog' }, { title: 'unlabelled' }] } });
    expect(later.updatedAt).toBeGreaterThan(ready.updatedAt);
  });

  it('pages with cursors, newest first, without repeating or skipping an issue that changes meanwhile', async () => {
    for (let index = 0; index < 7; index++) fake.workspace.addIssue({ team: 'ENG', title: `issue ${index}` });
    const query = 'query Q($after: String) { issues(first: 3, after: $after, orderBy: updatedAt) { nodes { title } pageInfo { hasNextPage endCursor } } }';
    const first = (await gql(query)).body.data as { issues: { nodes: { title: string }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } };
    expect(first.issues.nodes.map((node) => node.title)).toEqual(['issue 6', 'issue 5', 'issue 4']);
    fake.workspace.updateIssue('ENG-1', { title: 'issue 0, edited' }); // moves to the front, behind the reader
    const titles: string[] = first.issues.nodes.map((node) => node.title);
    let page = first;
    while (page.issues.pageInfo.hasNextPage) {
      page = (await gql(query, { after: page.issues.pageInfo.endCursor })).body.data as typeof first;
      titles.push(...page.issues.nodes.map((node) => node.title));
    }
    expect(titles).toEqual(['issue 6', 'issue 5', 'issue 4', 'issue 3', 'issue 2', 'issue 1']);
  });

  it('finds an issue by identifier with its relations, children and comments', async () => {
    const ws = fake.workspace;
    const parent = ws.addIssue({ team: 'ENG', title: 'parent', priority: 2 });
    const child = ws.addIssue({ team: 'ENG', title: 'child', parent: ws.identifier(parent) });
    const blocker = ws.addIssue({ team: 'ENG', title: 'blocker', state: 'Done' });
    ws.addRelation(ws.identifier(blocker), ws.identifier(parent));
    ws.addComment(ws.identifier(parent), 'hello');
    const answer = await gql(`query {
      issue(id: "ENG-1") {
        id identifier priority priorityLabel url state { name type } team { key }
        children { nodes { identifier } }
        inverseRelations { nodes { type issue { identifier state { type } } } }
        comments { nodes { body } }
      }
    }`);
    expect(answer.body.data?.issue).toMatchObject({
      id: parent.id,
      identifier: 'ENG-1',
      priority: 2,
      priorityLabel: 'High',
      url: 'https://linear.app/acme/issue/ENG-1/parent',
      state: { name: 'Todo', type: 'unstarted' },
      team: { key: 'ENG' },
      children: { nodes: [{ identifier: ws.identifier(child) }] },
      inverseRelations: { nodes: [{ type: 'blocks', issue: { identifier: 'ENG-3', state: { type: 'completed' } } }] },
      comments: { nodes: [{ body: 'hello' }] },
    });
  });

  it('moves issues, and creates and updates comments', async () => {
    const ws = fake.workspace;
    const issue = ws.addIssue({ team: 'ENG', title: 'move me' });
    const inProgress = ws.stateNamed(issue.teamId, 'In Progress');
    const moved = await gql('mutation M($id: String!, $stateId: String!) { issueUpdate(id: $id, input: { stateId: $stateId }) { success issue { state { name } } } }', {
      id: issue.id,
      stateId: inProgress.id,
    });
    expect(moved.body.data).toEqual({ issueUpdate: { success: true, issue: { state: { name: 'In Progress' } } } });

    const otherTeam = ws.addTeam('OPS');
    const foreign = ws.stateNamed(otherTeam.id, 'Done');
    const refused = await gql(`mutation { issueUpdate(id: "${issue.id}", input: { stateId: "${foreign.id}" }) { success } }`);
    expect(codes(refused)).toEqual(['INVALID_INPUT']);

    const created = await gql(`mutation { commentCreate(input: { issueId: "${issue.id}", body: "first" }) { success comment { id body } } }`);
    const comment = (created.body.data as { commentCreate: { comment: { id: string } } }).commentCreate.comment;
    await gql(`mutation { commentUpdate(id: "${comment.id}", input: { body: "second" }) { success } }`);
    expect(ws.commentsOn('ENG-1').map((record) => record.body)).toEqual(['second']);
    const gone = await gql('mutation { commentUpdate(id: "nope", input: { body: "x" }) { success } }');
    expect(gone.body.errors?.[0]?.message).toBe('Entity not found: Comment');
  });
});

describe('rate limits', () => {
  it('sends the request headers on every answer', async () => {
    const answer = await gql('query { teams { nodes { key } } }');
    expect(answer.headers.get('x-ratelimit-requests-limit')).toBe('1500');
    expect(answer.headers.get('x-ratelimit-requests-remaining')).toBe('1499');
    expect(Number(answer.headers.get('x-ratelimit-requests-reset'))).toBe(fake.rateLimit.resetsAt);
  });

  it('refuses with RATELIMITED, as 400 or as 429, then serves again', async () => {
    fake.rateLimit.refuseNext(1);
    const refused = await gql('query { teams { nodes { key } } }');
    expect(refused.status).toBe(400);
    expect(codes(refused)).toEqual(['RATELIMITED']);
    expect(Number(refused.headers.get('x-ratelimit-requests-reset'))).toBe(fake.rateLimit.resetsAt);
    fake.rateLimit.refuseNext(1, 429);
    expect((await gql('query { teams { nodes { key } } }')).status).toBe(429);
    expect((await gql('query { teams { nodes { key } } }')).status).toBe(200);
  });

  it('refuses every request once the window is spent, until it resets', async () => {
    fake.rateLimit.exhaust();
    expect(codes(await gql('query { teams { nodes { key } } }'))).toEqual(['RATELIMITED']);
    fake.clock.advance(fake.rateLimit.resetsAt - fake.clock.now());
    expect((await gql('query { teams { nodes { key } } }')).status).toBe(200);
  });
});
