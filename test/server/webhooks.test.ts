// The webhook endpoints through a real server over a real SQLite store: hostile and malformed
// deliveries are each refused with their status and leave nothing behind (no tick, no event, no
// delivery record), and signed ones tick exactly once and are deduplicated on replay.

import { createHmac, randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { databasePath } from '../../src/engine/context.js';
import { type Harness, json, useServer } from './harness.js';

const GITHUB_SECRET = 'gh-webhook-secret-9f2c';
const LINEAR_SECRET = 'lin-webhook-secret-41ad';
const NOW = 1_750_000_000_000;
const ONE_MB = 1024 * 1024;

const CONFIG = { webhooks: { github: { secret_env: 'TEST_GITHUB_SECRET' }, linear: { secret_env: 'TEST_LINEAR_SECRET' } } };
const ENV = { TEST_GITHUB_SECRET: GITHUB_SECRET, TEST_LINEAR_SECRET: LINEAR_SECRET };

const hmac = (secret: string, body: string | Uint8Array) => createHmac('sha256', secret).update(body).digest('hex');

type Body = string | Uint8Array;

interface Delivery {
  path: '/webhooks/github' | '/webhooks/linear';
  body: Body | ReadableStream<Uint8Array>;
  headers: Headers;
}

interface GithubOptions {
  payload?: unknown;
  /** The raw body; wins over `payload`. */
  body?: Body;
  event?: string | null;
  delivery?: string | null;
  /** The whole header value, null for none; default the right signature of the body. */
  signature?: string | null;
  /** Signs this instead of the body. */
  signBody?: Body;
  contentType?: string | null;
}

const ISSUE_OPENED = { action: 'opened', issue: { number: 7, title: 'Fix the login form' }, repository: { full_name: 'acme/app' } };

function github(options: GithubOptions = {}): Delivery {
  const body = options.body ?? JSON.stringify(options.payload ?? ISSUE_OPENED);
  const headers = new Headers();
  const set = (name: string, value: string | null | undefined, fallback: string) => {
    const chosen = value === undefined ? fallback : value;
    if (chosen !== null) headers.set(name, chosen);
  };
  set('Content-Type', options.contentType, 'application/json');
  set('X-GitHub-Event', options.event, 'issues');
  set('X-GitHub-Delivery', options.delivery, randomUUID());
  set('X-Hub-Signature-256', options.signature, `sha256=${hmac(GITHUB_SECRET, options.signBody ?? body)}`);
  return { path: '/webhooks/github', body, headers };
}

interface LinearOptions {
  payload?: Record<string, unknown>;
  body?: Body;
  delivery?: string | null;
  signature?: string | null;
  signBody?: Body;
  contentType?: string | null;
}

const linearIssue = (extra: Record<string, unknown> = {}) => ({
  type: 'Issue',
  action: 'update',
  createdAt: '2025-06-15T10:00:00.000Z',
  webhookId: 'a0b1c2d3-0000-4000-8000-000000000001',
  webhookTimestamp: NOW,
  data: { id: 'issue-1', title: 'Fix the login form', team: { key: 'ENG' } },
  ...extra,
});

function linear(options: LinearOptions = {}): Delivery {
  const body = options.body ?? JSON.stringify(options.payload ?? linearIssue());
  const headers = new Headers();
  const set = (name: string, value: string | null | undefined, fallback: string) => {
    const chosen = value === undefined ? fallback : value;
    if (chosen !== null) headers.set(name, chosen);
  };
  set('Content-Type', options.contentType, 'application/json; charset=utf-8');
  set('Linear-Delivery', options.delivery, randomUUID());
  set('Linear-Signature', options.signature, hmac(LINEAR_SECRET, options.signBody ?? body));
  return { path: '/webhooks/linear', body, headers };
}

function send(h: Harness, delivery: Delivery): Promise<Response> {
  return fetch(`${h.server.url}${delivery.path}`, { method: 'POST', headers: delivery.headers, body: delivery.body, duplex: 'half' } as RequestInit);
}

/** A request written byte by byte, for what fetch refuses to send (control characters, raw UTF-8 in headers). */
function sendRaw(h: Harness, path: string, headerLines: string[], body: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(h.server.port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => {
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      if (status) resolve(Number(status[1]));
      else reject(new Error(`no HTTP answer: ${JSON.stringify(answer.slice(0, 200))}`));
    });
    const head = [`POST ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', `Content-Length: ${body.length}`, ...headerLines, '', ''].join('\r\n');
    socket.write(Buffer.concat([Buffer.from(head, 'utf8'), body]));
  });
}

/** What a delivery could have left behind. */
async function traces(h: Harness) {
  const db = new BetterSqlite3(databasePath(h.orch.home), { readonly: true });
  try {
    const deliveries = db.prepare('select count(*) from webhook_deliveries').pluck().get() as number;
    const events = await h.orch.store.listEvents({ types: ['webhook.received'] });
    return { ticks: h.ticksRequested, deliveries, events: events.length };
  } finally {
    db.close();
  }
}

const NOTHING = { ticks: 0, deliveries: 0, events: 0 };

type ErrorBody = { error: { code: string; message: string } };

const oneByteChanged = (text: string) => `${text.slice(0, 10)}${String.fromCharCode(text.charCodeAt(10) ^ 1)}${text.slice(11)}`;

function chunkedStream(bytes: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= bytes) return controller.close();
      const chunk = new Uint8Array(Math.min(64 * 1024, bytes - sent)).fill(0x20);
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
}

interface HostileCase {
  name: string;
  request: () => Delivery;
  status: number;
  /** A fragment of the error message, when the answer is an error. */
  message?: string;
}

const githubBody = JSON.stringify(ISSUE_OPENED);
const linearBody = JSON.stringify(linearIssue());
const githubDigest = hmac(GITHUB_SECRET, githubBody);
const linearDigest = hmac(LINEAR_SECRET, linearBody);
const signedGithub = (body: Body, options: GithubOptions = {}) => github({ body, ...options });
const signedLinear = (payload: Record<string, unknown>, options: LinearOptions = {}) => linear({ payload, ...options });

const HOSTILE: HostileCase[] = [
  // ---- GitHub: the signature
  { name: 'github: no signature header', request: () => github({ signature: null }), status: 401, message: 'X-Hub-Signature-256 header: required' },
  { name: 'github: empty signature header', request: () => github({ signature: '' }), status: 401, message: 'required' },
  { name: 'github: sha1= prefix', request: () => github({ signature: `sha1=${githubDigest}` }), status: 401, message: 'expected "sha256="' },
  { name: 'github: bare hex without prefix', request: () => github({ signature: githubDigest }), status: 401 },
  { name: 'github: prefix in upper case', request: () => github({ signature: `SHA256=${githubDigest}` }), status: 401 },
  { name: 'github: digest in upper case', request: () => github({ signature: `sha256=${githubDigest.toUpperCase()}` }), status: 401 },
  { name: 'github: odd number of hex digits', request: () => github({ signature: `sha256=${githubDigest.slice(1)}` }), status: 401 },
  { name: 'github: truncated digest', request: () => github({ signature: `sha256=${githubDigest.slice(0, 32)}` }), status: 401 },
  { name: 'github: digest too long', request: () => github({ signature: `sha256=${githubDigest}${githubDigest}` }), status: 401 },
  { name: 'github: not hex', request: () => github({ signature: `sha256=${'zz'.repeat(32)}` }), status: 401 },
  { name: 'github: space after prefix', request: () => github({ signature: `sha256= ${githubDigest}` }), status: 401 },
  { name: 'github: two signatures in one header', request: () => github({ signature: `sha256=${githubDigest}, sha256=${githubDigest}` }), status: 401 },
  { name: 'github: percent-encoded CRLF after the digest', request: () => github({ signature: `sha256=${githubDigest}%0d%0aX-Evil:%201` }), status: 401 },
  { name: 'github: signature of a different body', request: () => github({ signBody: JSON.stringify({ ...ISSUE_OPENED, action: 'closed' }) }), status: 401, message: 'does not match the body' },
  { name: 'github: body altered by one byte', request: () => signedGithub(oneByteChanged(githubBody), { signature: `sha256=${githubDigest}` }), status: 401, message: 'does not match the body' },
  { name: 'github: signed with the Linear secret', request: () => github({ signature: `sha256=${hmac(LINEAR_SECRET, githubBody)}` }), status: 401 },
  { name: 'github: signed with an empty secret', request: () => github({ signature: `sha256=${hmac('', githubBody)}` }), status: 401 },
  { name: 'github: empty body, unsigned', request: () => signedGithub('', { signature: null }), status: 401 },
  // ---- GitHub: size and content type
  { name: 'github: body over 1 MB', request: () => signedGithub(JSON.stringify({ ...ISSUE_OPENED, pad: 'x'.repeat(ONE_MB) })), status: 413 },
  { name: 'github: body over 1 MB streamed without a length', request: () => ({ ...github(), body: chunkedStream(ONE_MB + 1) }), status: 413 },
  { name: 'github: text/plain', request: () => github({ contentType: 'text/plain' }), status: 415, message: 'Content-Type: expected application/json' },
  { name: "github: form-encoded (GitHub's other option)", request: () => signedGithub(`payload=${encodeURIComponent(githubBody)}`, { contentType: 'application/x-www-form-urlencoded' }), status: 415 },
  { name: 'github: no content type', request: () => github({ contentType: null }), status: 415 },
  { name: 'github: JSON in another charset', request: () => github({ contentType: 'application/json; charset=latin1' }), status: 415 },
  // ---- GitHub: signed but not a usable body
  { name: 'github: empty body, signed', request: () => signedGithub(''), status: 400, message: 'request body: empty' },
  { name: 'github: invalid JSON, signed', request: () => signedGithub('{"action": "opened",'), status: 400, message: 'request body: malformed JSON' },
  { name: 'github: invalid UTF-8, signed', request: () => signedGithub(new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])), status: 400, message: 'not valid UTF-8' },
  { name: 'github: JSON array, signed', request: () => signedGithub('[{"action": "opened"}]'), status: 400, message: 'expected a JSON object' },
  { name: 'github: JSON number, signed', request: () => signedGithub('42'), status: 400, message: 'expected a JSON object' },
  { name: 'github: JSON null, signed', request: () => signedGithub('null'), status: 400, message: 'expected a JSON object' },
  { name: 'github: JSON string, signed', request: () => signedGithub('"issues"'), status: 400, message: 'expected a JSON object' },
  { name: 'github: nesting 100,000 deep, signed', request: () => signedGithub(`${'['.repeat(100_000)}${']'.repeat(100_000)}`), status: 400 },
  { name: 'github: action that is a number', request: () => github({ payload: { ...ISSUE_OPENED, action: 1 } }), status: 400, message: 'action: expected an action name' },
  { name: 'github: action with a newline', request: () => github({ payload: { ...ISSUE_OPENED, action: 'opened\nX-Evil: 1' } }), status: 400, message: 'action' },
  { name: 'github: no event header', request: () => github({ event: null }), status: 400, message: 'X-GitHub-Event header: required' },
  { name: 'github: shell in the event header', request: () => github({ event: 'issues;$(touch /tmp/pwned)' }), status: 400, message: 'X-GitHub-Event header' },
  { name: 'github: no delivery id', request: () => github({ delivery: null }), status: 400, message: 'X-GitHub-Delivery header: required' },
  { name: 'github: path in the delivery id', request: () => github({ delivery: '../../../etc/passwd' }), status: 400, message: 'X-GitHub-Delivery header' },
  { name: 'github: delivery id of 4 KB', request: () => github({ delivery: 'a'.repeat(4096) }), status: 400 },
  // ---- GitHub: signed, well-formed, and of no concern: answered, nothing done
  { name: 'github: unknown event', request: () => github({ event: 'deployment_status' }), status: 202 },
  { name: 'github: known event, other action', request: () => github({ payload: { ...ISSUE_OPENED, action: 'deleted' } }), status: 202 },
  { name: 'github: pull_request opened', request: () => github({ event: 'pull_request', payload: { ...ISSUE_OPENED, action: 'opened' } }), status: 202 },
  { name: 'github: event named __proto__', request: () => github({ event: '__proto__' }), status: 202 },
  { name: 'github: event named constructor', request: () => github({ event: 'constructor' }), status: 202 },
  { name: 'github: action only under __proto__', request: () => signedGithub('{"__proto__": {"action": "opened"}, "constructor": {"prototype": {"action": "opened"}}}'), status: 202 },
  { name: 'github: ping', request: () => github({ event: 'ping', payload: { zen: 'Design for failure.', hook_id: 1 } }), status: 200 },

  // ---- Linear: the signature
  { name: 'linear: no signature header', request: () => linear({ signature: null }), status: 401, message: 'Linear-Signature header: required' },
  { name: "linear: GitHub's sha256= form", request: () => linear({ signature: `sha256=${linearDigest}` }), status: 401, message: 'expected 64 lowercase hex digits' },
  { name: 'linear: digest in upper case', request: () => linear({ signature: linearDigest.toUpperCase() }), status: 401 },
  { name: 'linear: odd number of hex digits', request: () => linear({ signature: linearDigest.slice(0, 63) }), status: 401 },
  { name: 'linear: truncated digest', request: () => linear({ signature: linearDigest.slice(0, 40) }), status: 401 },
  { name: 'linear: digest with a trailing comma list', request: () => linear({ signature: `${linearDigest},${linearDigest}` }), status: 401 },
  { name: 'linear: signature of a different body', request: () => linear({ signBody: JSON.stringify(linearIssue({ action: 'remove' })) }), status: 401, message: 'does not match the body' },
  { name: 'linear: body altered by one byte', request: () => linear({ body: oneByteChanged(linearBody), signature: linearDigest }), status: 401 },
  { name: 'linear: signed with the GitHub secret', request: () => linear({ signature: hmac(GITHUB_SECRET, linearBody) }), status: 401 },
  // ---- Linear: the replay window
  { name: 'linear: timestamp 61 s old', request: () => signedLinear(linearIssue({ webhookTimestamp: NOW - 61_000 })), status: 401, message: 'outside the 60 s replay window' },
  { name: 'linear: timestamp a day old', request: () => signedLinear(linearIssue({ webhookTimestamp: NOW - 86_400_000 })), status: 401 },
  { name: 'linear: timestamp 61 s in the future', request: () => signedLinear(linearIssue({ webhookTimestamp: NOW + 61_000 })), status: 401, message: 'in the future' },
  { name: 'linear: timestamp in seconds', request: () => signedLinear(linearIssue({ webhookTimestamp: NOW / 1000 })), status: 401 },
  { name: 'linear: timestamp as a string', request: () => signedLinear(linearIssue({ webhookTimestamp: String(NOW) })), status: 400, message: 'webhookTimestamp: expected a time in epoch milliseconds' },
  { name: 'linear: no timestamp', request: () => signedLinear(linearIssue({ webhookTimestamp: undefined })), status: 400, message: 'webhookTimestamp' },
  { name: 'linear: timestamp 1e400 (Infinity)', request: () => linear({ body: linearBody.replace(String(NOW), '1e400') }), status: 400, message: 'webhookTimestamp' },
  { name: 'linear: timestamp with a fraction', request: () => signedLinear(linearIssue({ webhookTimestamp: NOW + 0.5 })), status: 400 },
  // ---- Linear: size, content type and body
  { name: 'linear: body over 1 MB', request: () => signedLinear(linearIssue({ pad: 'x'.repeat(ONE_MB) })), status: 413 },
  { name: 'linear: text/plain', request: () => linear({ contentType: 'text/plain' }), status: 415 },
  { name: 'linear: no content type', request: () => linear({ contentType: null }), status: 415 },
  { name: 'linear: invalid JSON, signed', request: () => linear({ body: '{"type": "Issue"' }), status: 400, message: 'malformed JSON' },
  { name: 'linear: empty body, signed', request: () => linear({ body: '' }), status: 400, message: 'empty' },
  { name: 'linear: JSON array, signed', request: () => linear({ body: '[]' }), status: 400, message: 'expected a JSON object' },
  { name: 'linear: JSON null, signed', request: () => linear({ body: 'null' }), status: 400 },
  { name: 'linear: JSON number, signed', request: () => linear({ body: String(NOW) }), status: 400 },
  { name: 'linear: no delivery id anywhere', request: () => signedLinear(linearIssue({ webhookId: undefined }), { delivery: null }), status: 400, message: 'Linear-Delivery header: required' },
  { name: 'linear: spaces in the delivery id', request: () => linear({ delivery: 'a b c' }), status: 400, message: 'Linear-Delivery header' },
  { name: 'linear: no type', request: () => signedLinear(linearIssue({ type: undefined })), status: 400, message: 'type: expected an entity type' },
  { name: 'linear: type only under __proto__', request: () => linear({ body: linearBody.replace('"type":"Issue"', '"__proto__":{"type":"Issue"}') }), status: 400, message: 'type' },
  { name: 'linear: type that is an array', request: () => signedLinear(linearIssue({ type: ['Issue'] })), status: 400 },
  // ---- Linear: signed, well-formed, and of no concern
  { name: 'linear: unknown entity', request: () => signedLinear(linearIssue({ type: 'Cycle' })), status: 202 },
  { name: 'linear: Comment update', request: () => signedLinear(linearIssue({ type: 'Comment', action: 'update' })), status: 202 },
  { name: 'linear: entity named hasOwnProperty', request: () => signedLinear(linearIssue({ type: 'hasOwnProperty' })), status: 202 },
];

describe('webhooks: hostile and malformed deliveries', () => {
  // One server for the whole block: every case must leave it exactly as it found it.
  const h = useServer({ config: CONFIG, env: ENV, now: () => NOW, scope: 'all' });

  it('has at least 30 cases for each endpoint', () => {
    expect(HOSTILE.filter((c) => c.name.startsWith('github:')).length).toBeGreaterThanOrEqual(30);
    expect(HOSTILE.filter((c) => c.name.startsWith('linear:')).length).toBeGreaterThanOrEqual(30);
  });

  it.each(HOSTILE)('$name → $status, nothing ticked or stored', async ({ request, status, message }) => {
    const response = await send(h, request());
    expect(response.status).toBe(status);
    const body = await json<ErrorBody & Record<string, unknown>>(response);
    if (status >= 400) {
      expect(body.error.message).not.toContain('\n');
      if (message) expect(body.error.message).toContain(message);
      expect(body.error.code).toBe({ 400: 'invalid_input', 401: 'unauthorized', 413: 'invalid_input', 415: 'invalid_input' }[status]);
    } else if (status === 202) {
      expect(body).toEqual({ ignored: true, reason: expect.stringMatching(/does not concern Orch$/) });
    } else {
      expect(body).toEqual({ ping: true });
    }
    expect(await traces(h)).toEqual(NOTHING);
    // Nothing a payload said reached Object.prototype.
    expect(({} as Record<string, unknown>).action).toBeUndefined();
    expect(({} as Record<string, unknown>).type).toBeUndefined();
  });

  it('logs a bad signature with its reason, never the secret or the body', async () => {
    h.logs.length = 0;
    const marker = 'canary-7d1f-in-the-body';
    await send(h, github({ payload: { ...ISSUE_OPENED, marker }, signature: `sha256=${'0'.repeat(64)}` }));
    await send(h, linear({ payload: linearIssue({ marker }), signature: '0'.repeat(64) }));
    await send(h, signedLinear(linearIssue({ marker, webhookTimestamp: NOW - 120_000 })));
    expect(h.logs.map((line) => [line.level, line.fields.webhook, line.fields.reason])).toEqual([
      ['warn', 'github', 'X-Hub-Signature-256 header: does not match the body'],
      ['warn', 'linear', 'Linear-Signature header: does not match the body'],
      ['warn', 'linear', 'webhookTimestamp: 120 s in the past, outside the 60 s replay window'],
    ]);
    const logged = JSON.stringify(h.logs);
    for (const secret of [GITHUB_SECRET, LINEAR_SECRET, marker]) expect(logged).not.toContain(secret);
  });

  it('refuses header injection and raw UTF-8 in headers that fetch would not send', async () => {
    const body = Buffer.from(githubBody);
    const signature = `X-Hub-Signature-256: sha256=${githubDigest}`;
    const common = ['Content-Type: application/json', 'X-GitHub-Event: issues'];
    const cases: [string[], number[]][] = [
      // A bare CR inside a value: Node's parser refuses the request before Orch sees it.
      [[...common, signature, 'X-GitHub-Delivery: d-1\rX-Injected: 1'], [400]],
      [[...common, `X-Hub-Signature-256: sha256=${githubDigest}\rX-GitHub-Delivery: d-2`], [400]],
      // A NUL byte in a value.
      [[...common, signature, 'X-GitHub-Delivery: d-3\u0000'], [400]],
      // UTF-8 look-alikes of hex digits and of a delivery id.
      [[...common, `X-Hub-Signature-256: sha256=${githubDigest.slice(0, 62)}ａｂ`, 'X-GitHub-Delivery: d-4'], [401]],
      [[...common, signature, 'X-GitHub-Delivery: dé-5'], [400]],
      [['Content-Type: application/json', 'X-GitHub-Event: íssues', signature, 'X-GitHub-Delivery: d-6'], [400]],
      // Two signature headers: Node joins them into one value, which is no signature.
      [[...common, signature, signature, 'X-GitHub-Delivery: d-7'], [401]],
    ];
    for (const [lines, statuses] of cases) {
      expect(statuses, lines.join(' | ')).toContain(await sendRaw(h, '/webhooks/github', lines, body));
    }
    const linearLines = ['Content-Type: application/json', `Linear-Signature: ${linearDigest}\rLinear-Delivery: x`];
    expect(await sendRaw(h, '/webhooks/linear', linearLines, Buffer.from(linearBody))).toBe(400);
    expect(await traces(h)).toEqual(NOTHING);
  });

  it('answers other methods and paths under /webhooks as any unauthenticated request', async () => {
    expect((await fetch(`${h.server.url}/webhooks/github`)).status).toBe(401);
    expect((await fetch(`${h.server.url}/webhooks/jira`, { method: 'POST', body: '{}' })).status).toBe(401);
    expect(await traces(h)).toEqual(NOTHING);
  });
});

describe('webhooks: signed deliveries', () => {
  const h = useServer({ config: { ...CONFIG, defaults: { tracker: { kind: 'github', repo: 'Acme/App' } } }, env: ENV, now: () => NOW });

  it('records a GitHub delivery, ticks once, and answers a redelivery as a duplicate', async () => {
    const delivery = github({ delivery: 'e1c9a5d0-4a4b-11f0-8b4d-6f1c2b1e0a01' });
    const first = await send(h, delivery);
    expect(first.status).toBe(202);
    expect(await json(first)).toEqual({ accepted: true });
    expect(await traces(h)).toEqual({ ticks: 1, deliveries: 1, events: 1 });
    const [event] = await h.orch.store.listEvents({ types: ['webhook.received'] });
    // The repository names project app's tracker (in another case), so the event is the project's.
    expect(event).toMatchObject({
      project: 'app',
      data: { source: 'github', delivery: 'e1c9a5d0-4a4b-11f0-8b4d-6f1c2b1e0a01', event: 'issues', action: 'opened', repository: 'acme/app' },
    });

    for (let replay = 0; replay < 3; replay++) {
      const again = await send(h, github({ delivery: 'e1c9a5d0-4a4b-11f0-8b4d-6f1c2b1e0a01' }));
      expect(again.status).toBe(200);
      expect(await json(again)).toEqual({ duplicate: true });
    }
    expect(await traces(h)).toEqual({ ticks: 1, deliveries: 1, events: 1 });

    expect((await send(h, github({ event: 'issue_comment', payload: { action: 'created', repository: { full_name: 'acme/app' } } }))).status).toBe(202);
    expect(await traces(h)).toEqual({ ticks: 2, deliveries: 2, events: 2 });
  });

  it('accepts every GitHub event and action that matters', async () => {
    const matters: [string, string][] = [
      ['issues', 'opened'], ['issues', 'edited'], ['issues', 'closed'], ['issues', 'reopened'], ['issues', 'labeled'], ['issues', 'unlabeled'], ['issues', 'assigned'],
      ['issue_comment', 'created'], ['issue_comment', 'edited'],
      ['pull_request', 'closed'], ['pull_request', 'reopened'], ['pull_request', 'synchronize'],
      ['sub_issues', 'sub_issue_added'],
    ];
    for (const [event, action] of matters) {
      const response = await send(h, github({ event, payload: { action } }));
      expect(response.status, `${event}.${action}`).toBe(202);
    }
    expect(await traces(h)).toEqual({ ticks: matters.length, deliveries: matters.length, events: matters.length });
  });

  it('records a Linear delivery once, by Linear-Delivery or else by webhookId and createdAt', async () => {
    const first = await send(h, linear({ delivery: '5b7f6c1e-0000-4000-8000-00000000abcd' }));
    expect(first.status).toBe(202);
    expect((await send(h, linear({ delivery: '5b7f6c1e-0000-4000-8000-00000000abcd' }))).status).toBe(200);
    expect(await traces(h)).toEqual({ ticks: 1, deliveries: 1, events: 1 });
    const [event] = await h.orch.store.listEvents({ types: ['webhook.received'] });
    expect(event).toMatchObject({ project: null, data: { source: 'linear', delivery: '5b7f6c1e-0000-4000-8000-00000000abcd', event: 'Issue', action: 'update', team: 'ENG' } });

    const noHeader = () => signedLinear(linearIssue({ type: 'Comment', action: 'create' }), { delivery: null });
    expect((await send(h, noHeader())).status).toBe(202);
    const replay = await send(h, noHeader());
    expect(replay.status).toBe(200);
    expect(await json(replay)).toEqual({ duplicate: true });
    expect(await traces(h)).toEqual({ ticks: 2, deliveries: 2, events: 2 });
  });

  it('accepts a Linear timestamp at the edges of the window', async () => {
    for (const skew of [-60_000, 60_000]) {
      expect((await send(h, signedLinear(linearIssue({ webhookTimestamp: NOW + skew })))).status).toBe(202);
    }
    expect(h.ticksRequested).toBe(2);
  });

  it('forgets deliveries older than a week, so the record stays bounded', async () => {
    await h.orch.store.recordWebhookDelivery({ source: 'github', deliveryId: 'ancient' }, Date.now() - 8 * 24 * 3600 * 1000);
    await h.orch.store.recordWebhookDelivery({ source: 'github', deliveryId: 'recent' }, Date.now() - 24 * 3600 * 1000);
    expect((await send(h, github())).status).toBe(202);
    expect((await send(h, github({ delivery: 'recent' }))).status).toBe(200);
    expect((await send(h, github({ delivery: 'ancient' }))).status).toBe(202);
    expect(h.ticksRequested).toBe(2);
  });
});

describe('webhooks: secret not configured', () => {
  const h = useServer({ env: ENV, now: () => NOW });

  it('answers 404 with a one-line reason and accepts nothing, signed or not', async () => {
    for (const delivery of [github(), linear(), github({ signature: null })]) {
      const response = await send(h, delivery);
      expect(response.status).toBe(404);
      const body = await json<ErrorBody>(response);
      expect(body.error).toEqual({ code: 'not_found', message: expect.stringMatching(/webhooks are off: set webhooks\.(github|linear)\.secret_env in config\.yaml$/) });
    }
    expect(await traces(h)).toEqual(NOTHING);
  });
});

describe('webhooks: secret missing from the environment', () => {
  const h = useServer({ config: CONFIG, env: { TEST_GITHUB_SECRET: '' }, now: () => NOW });

  it('answers 503 without naming the variable, logs which one, and accepts nothing', async () => {
    for (const delivery of [github(), linear(), github({ signature: `sha256=${hmac('', githubBody)}` })]) {
      const response = await send(h, delivery);
      expect(response.status).toBe(503);
      const body = await json<ErrorBody>(response);
      expect(body.error.code).toBe('config');
      expect(body.error.message).toMatch(/webhook secret is not set in the daemon's environment$/);
      expect(body.error.message).not.toContain('TEST_');
    }
    expect(h.logs.map((line) => line.message)).toContain("github webhook refused: TEST_GITHUB_SECRET is not set in the daemon's environment");
    expect(await traces(h)).toEqual(NOTHING);
  });
});
