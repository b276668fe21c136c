import { describe, expect, it } from 'vitest';
import {
  checkLinearTimestamp,
  decideGithubDelivery,
  decideLinearDelivery,
  isJsonContentType,
  LINEAR_REPLAY_WINDOW_MS,
  parseGithubSignatureHeader,
  parseLinearSignatureHeader,
} from '../../src/core/webhooks.js';

const HEX = 'ab'.repeat(32);
const NOW = 1_750_000_000_000;

describe('signature headers', () => {
  it('takes GitHub\'s "sha256=" and 64 lowercase hex digits, nothing else', () => {
    expect(parseGithubSignatureHeader(`sha256=${HEX}`)).toEqual({ ok: true, hex: HEX });
    for (const header of [undefined, '', HEX, `sha1=${HEX}`, `SHA256=${HEX}`, `sha256=${HEX.toUpperCase()}`, `sha256=${HEX.slice(1)}`, `sha256=${HEX}0`, `sha256= ${HEX}`, `sha256=${HEX}, sha256=${HEX}`, `sha256=${'g'.repeat(64)}`]) {
      expect(parseGithubSignatureHeader(header).ok, String(header)).toBe(false);
    }
    expect(parseGithubSignatureHeader(undefined)).toEqual({ ok: false, reason: 'X-Hub-Signature-256 header: required' });
  });

  it("takes Linear's bare 64 lowercase hex digits, nothing else", () => {
    expect(parseLinearSignatureHeader(HEX)).toEqual({ ok: true, hex: HEX });
    for (const header of [undefined, '', `sha256=${HEX}`, HEX.toUpperCase(), HEX.slice(2), `${HEX}\n`]) {
      expect(parseLinearSignatureHeader(header).ok, String(header)).toBe(false);
    }
  });

  it('never echoes the header it refuses', () => {
    const check = parseGithubSignatureHeader('sha256=<script>');
    expect(check.ok).toBe(false);
    expect(JSON.stringify(check)).not.toContain('script');
  });
});

describe('isJsonContentType', () => {
  it('accepts application/json, in any case, with an optional utf-8 charset', () => {
    for (const header of ['application/json', 'Application/JSON', 'application/json; charset=utf-8', 'application/json;charset="UTF-8"', 'application/json;']) {
      expect(isJsonContentType(header), header).toBe(true);
    }
    for (const header of [undefined, '', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'application/jsonp', 'application/json-patch+json', 'application/json; boundary=x']) {
      expect(isJsonContentType(header), String(header)).toBe(false);
    }
  });
});

describe('checkLinearTimestamp', () => {
  it('accepts a time within the window either way, edges included', () => {
    for (const skew of [0, -LINEAR_REPLAY_WINDOW_MS, LINEAR_REPLAY_WINDOW_MS, -1, 1]) expect(checkLinearTimestamp(NOW + skew, NOW)).toEqual({ ok: true });
  });

  it('calls a time outside the window a replay, saying how far off it is', () => {
    expect(checkLinearTimestamp(NOW - 61_000, NOW)).toEqual({ ok: false, why: 'replay', reason: 'webhookTimestamp: 61 s in the past, outside the 60 s replay window' });
    expect(checkLinearTimestamp(NOW + 120_000, NOW)).toMatchObject({ why: 'replay', reason: expect.stringContaining('120 s in the future') });
    // Seconds instead of milliseconds is decades in the past.
    expect(checkLinearTimestamp(Math.floor(NOW / 1000), NOW)).toMatchObject({ ok: false, why: 'replay' });
  });

  it('calls anything but a positive whole number of milliseconds malformed', () => {
    for (const value of [undefined, null, String(NOW), NOW + 0.5, Number.POSITIVE_INFINITY, Number.NaN, -NOW, 0, [NOW], { at: NOW }, true]) {
      expect(checkLinearTimestamp(value, NOW), String(value)).toMatchObject({ ok: false, why: 'malformed' });
    }
  });
});

describe('decideGithubDelivery', () => {
  const delivery = (event: string | undefined, payload: unknown, deliveryId: string | undefined = 'd-1') => decideGithubDelivery({ event, deliveryId, payload });

  it('accepts the events and actions that can change what runs', () => {
    const accepted: [string, string | undefined][] = [
      ['issues', 'opened'], ['issues', 'edited'], ['issues', 'closed'], ['issues', 'reopened'], ['issues', 'labeled'], ['issues', 'unlabeled'], ['issues', 'assigned'],
      ['issue_comment', 'created'], ['issue_comment', 'edited'],
      ['pull_request', 'closed'], ['pull_request', 'reopened'], ['pull_request', 'synchronize'],
      ['pull_request_review', 'submitted'], ['pull_request_review', 'dismissed'], ['pull_request_review_comment', 'created'],
      ['check_suite', 'completed'], ['check_run', 'completed'], ['check_run', 'rerequested'], ['status', undefined],
      ['sub_issues', 'sub_issue_added'], ['sub_issues', 'parent_issue_removed'],
    ];
    for (const [event, action] of accepted) {
      expect(delivery(event, { action, repository: { full_name: 'acme/app' } }), `${event}.${action}`).toEqual({
        kind: 'accept',
        webhook: { source: 'github', deliveryId: 'd-1', event, action: action ?? null, repository: 'acme/app', team: null },
      });
    }
  });

  it('answers a ping and ignores what does not concern Orch', () => {
    expect(delivery('ping', { zen: 'Keep it logically awesome.', hook_id: 1 })).toEqual({ kind: 'ping' });
    expect(delivery('issues', { action: 'deleted' })).toEqual({ kind: 'ignore', reason: 'issues.deleted does not concern Orch' });
    expect(delivery('issues', {})).toEqual({ kind: 'ignore', reason: 'issues does not concern Orch' });
    for (const event of ['push', 'deployment', 'constructor', '__proto__', 'hasOwnProperty', 'toString']) {
      expect(delivery(event, { action: 'opened' }).kind, event).toBe('ignore');
    }
  });

  it('reads only fields the payload itself holds', () => {
    expect(delivery('issues', JSON.parse('{"__proto__": {"action": "opened"}}'))).toMatchObject({ kind: 'ignore' });
    expect(delivery('issues', JSON.parse('{"action": "opened", "repository": {"__proto__": {"full_name": "evil/repo"}}}'))).toMatchObject({ kind: 'accept', webhook: { repository: null } });
    expect(({} as Record<string, unknown>).action).toBeUndefined();
  });

  it('keeps an odd repository name out of the event rather than refusing', () => {
    expect(delivery('issues', { action: 'opened', repository: { full_name: 'a/b; rm -rf /' } })).toMatchObject({ kind: 'accept', webhook: { repository: null } });
    expect(delivery('issues', { action: 'opened', repository: 'acme/app' })).toMatchObject({ kind: 'accept', webhook: { repository: null } });
  });

  it('refuses missing or odd headers and a payload that is not an object', () => {
    const odd = 'X-GitHub-Delivery header: expected a delivery id (letters, digits, "-")';
    const notObject = 'request body: expected a JSON object';
    const refusals: { event?: string; deliveryId?: string; payload: unknown; reason: string }[] = [
      { payload: {}, reason: 'X-GitHub-Event header: required' },
      { event: 'issues; rm -rf /', payload: {}, reason: 'X-GitHub-Event header: expected an event name such as "issues"' },
      { event: 'issues', deliveryId: '', payload: {}, reason: 'X-GitHub-Delivery header: required' },
      { event: 'issues', deliveryId: '../../etc/passwd', payload: {}, reason: odd },
      { event: 'issues', deliveryId: 'a b', payload: {}, reason: odd },
      { event: 'issues', deliveryId: 'x'.repeat(129), payload: {}, reason: odd },
      { event: 'issues', payload: [], reason: notObject },
      { event: 'issues', payload: null, reason: notObject },
      { event: 'issues', payload: 42, reason: notObject },
      { event: 'issues', payload: { action: 7 }, reason: 'action: expected an action name' },
      { event: 'issues', payload: { action: 'opened\nrm' }, reason: 'action: expected an action name' },
    ];
    for (const { event, deliveryId = 'd-1', payload, reason } of refusals) {
      expect(decideGithubDelivery({ event, deliveryId, payload }), reason).toEqual({ kind: 'refuse', why: 'malformed', reason });
    }
  });
});

describe('decideLinearDelivery', () => {
  const issue = (extra: Record<string, unknown> = {}) => ({ type: 'Issue', action: 'create', webhookTimestamp: NOW, webhookId: 'hook-1', createdAt: '2025-06-15T10:00:00.000Z', data: { team: { key: 'ENG' } }, ...extra });

  it('accepts Issue create, update, remove and Comment create', () => {
    for (const [type, action] of [['Issue', 'create'], ['Issue', 'update'], ['Issue', 'remove'], ['Comment', 'create']] as const) {
      expect(decideLinearDelivery({ deliveryId: 'd-1', payload: issue({ type, action }), now: NOW })).toEqual({
        kind: 'accept',
        webhook: { source: 'linear', deliveryId: 'd-1', event: type, action, repository: null, team: 'ENG' },
      });
    }
  });

  it('falls back to webhookId and createdAt when Linear-Delivery is absent', () => {
    expect(decideLinearDelivery({ deliveryId: undefined, payload: issue(), now: NOW })).toMatchObject({ kind: 'accept', webhook: { deliveryId: 'hook-1:2025-06-15T10:00:00.000Z' } });
    expect(decideLinearDelivery({ deliveryId: undefined, payload: issue({ webhookId: undefined }), now: NOW })).toEqual({
      kind: 'refuse',
      why: 'malformed',
      reason: 'Linear-Delivery header: required (or webhookId and createdAt in the body)',
    });
    expect(decideLinearDelivery({ deliveryId: undefined, payload: issue({ createdAt: 'yesterday' }), now: NOW })).toMatchObject({ kind: 'refuse', why: 'malformed' });
  });

  it('ignores other entities and actions', () => {
    expect(decideLinearDelivery({ deliveryId: 'd-1', payload: issue({ type: 'Comment', action: 'update' }), now: NOW })).toEqual({ kind: 'ignore', reason: 'Comment.update does not concern Orch' });
    expect(decideLinearDelivery({ deliveryId: 'd-1', payload: issue({ type: 'Project' }), now: NOW }).kind).toBe('ignore');
    expect(decideLinearDelivery({ deliveryId: 'd-1', payload: issue({ type: 'constructor' }), now: NOW }).kind).toBe('ignore');
  });

  it('checks the replay window before anything else in the payload', () => {
    expect(decideLinearDelivery({ deliveryId: 'd-1', payload: issue({ webhookTimestamp: NOW - 61_000, type: 7 }), now: NOW })).toMatchObject({ kind: 'refuse', why: 'replay' });
    expect(decideLinearDelivery({ deliveryId: 'd-1', payload: issue({ webhookTimestamp: String(NOW) }), now: NOW })).toMatchObject({ kind: 'refuse', why: 'malformed' });
  });

  it('refuses a payload that is not an object or lacks its type', () => {
    for (const payload of [[], null, 'Issue', 1]) {
      expect(decideLinearDelivery({ deliveryId: 'd-1', payload, now: NOW })).toEqual({ kind: 'refuse', why: 'malformed', reason: 'request body: expected a JSON object' });
    }
    expect(decideLinearDelivery({ deliveryId: 'd-1', payload: issue({ type: undefined }), now: NOW })).toMatchObject({ reason: 'type: expected an entity type such as "Issue"' });
    expect(decideLinearDelivery({ deliveryId: 'd-1', payload: JSON.parse(`{"__proto__": {"type": "Issue"}, "action": "create", "webhookTimestamp": ${NOW}}`), now: NOW })).toMatchObject({
      kind: 'refuse',
      reason: 'type: expected an entity type such as "Issue"',
    });
  });
});
