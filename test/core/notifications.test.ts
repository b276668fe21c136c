import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { digestDue, gatherNotices, nextDigestAt, sendAt, startOfUtcDay } from '../../src/core/notification-batch.js';
import {
  composeBurst,
  composeDigest,
  DISCORD_MAX,
  escapeDiscord,
  escapeHtml,
  escapeSlack,
  MAX_LINES,
  oneLine,
  renderDiscord,
  renderPlain,
  renderSlack,
  renderTelegramHtml,
  TELEGRAM_MAX,
} from '../../src/core/notification-text.js';
import { NOTIFICATION_KINDS, NOTIFYING_EVENT_TYPES, noticeFromEvent, wants, type Notice } from '../../src/core/notifications.js';
import type { OrchEvent } from '../../src/core/types.js';

const BASE = 'http://orch.example:7878';
const event = (type: string, data: Record<string, unknown>, extra: Partial<OrchEvent> = {}): OrchEvent => ({ id: 7, at: 1000, type, project: 'api', taskId: 3, runId: null, data, ...extra });

const noticeArb: fc.Arbitrary<Notice> = fc.record({
  kind: fc.constantFrom('approval_waiting', 'question', 'needs_review', 'project_paused', 'budget_reached'),
  key: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g'),
  eventId: fc.nat(),
  at: fc.integer({ min: 0, max: 10_000_000 }),
  project: fc.option(fc.constantFrom('api', 'web'), { nil: null }),
  taskId: fc.option(fc.integer({ min: 1, max: 500 }), { nil: null }),
  detail: fc.string(),
});

describe('events to notices', () => {
  it('tells an escalation, a paused project, a spent budget and the two kinds of approval request', () => {
    expect(noticeFromEvent(event('task.escalate', { from: 'running', to: 'needs_review', reason: 'attempts exhausted' }))).toMatchObject({ kind: 'needs_review', key: 'needs_review:3', detail: 'attempts exhausted' });
    expect(noticeFromEvent(event('project.paused', { reason: 'disk full' }))).toMatchObject({ kind: 'project_paused', key: 'project_paused:api' });
    expect(noticeFromEvent(event('run.ended', { outcome: 'budget_exceeded', reason: 'over $1' }))).toMatchObject({ kind: 'budget_reached', taskId: 3 });
    expect(noticeFromEvent(event('run.ended', { outcome: 'success' }))).toBeNull();
    expect(noticeFromEvent(event('approval.requested', { id: 'p1', kind: 'permission', tool: 'Bash', command: 'rm -rf build' }, { project: null, taskId: null }))).toMatchObject({ kind: 'approval_waiting', key: 'approval:p1', detail: 'Bash: rm -rf build' });
    expect(noticeFromEvent(event('approval.requested', { id: 'q1', kind: 'question', question: 'Which DB?', project: 'web', taskId: 9 }, { project: null, taskId: null }))).toMatchObject({ kind: 'question', project: 'web', taskId: 9, detail: 'Which DB?' });
    // As the store writes it: the request's id, its state and the tool's input.
    expect(noticeFromEvent(event('approval.requested', { approval: 7, kind: 'permission', state: 'pending', tool: 'Bash', input: { command: 'npm publish' }, question: null }))).toMatchObject({ kind: 'approval_waiting', key: 'approval:7', detail: 'Bash: npm publish' });
    // Decided as it was asked (a rule, the approver): nobody waits for a person.
    expect(noticeFromEvent(event('approval.requested', { approval: 8, kind: 'permission', state: 'denied', tool: 'Bash', input: { command: 'rm -rf /' }, question: null }))).toBeNull();
    expect(noticeFromEvent(event('task.started', { to: 'running' }))).toBeNull();
  });

  it('reads only the event types that can raise a notice', () => {
    fc.assert(
      fc.property(fc.string(), fc.dictionary(fc.string(), fc.jsonValue()), (type, data) => {
        const notice = noticeFromEvent(event(type, data));
        if (notice !== null) expect(NOTIFYING_EVENT_TYPES).toContain(type);
      }),
    );
  });

  it('filters by project and kind', () => {
    const notice = { kind: 'needs_review', project: 'api' } as const;
    expect(wants({ projects: null, events: ['needs_review'] }, notice)).toBe(true);
    expect(wants({ projects: ['web'], events: ['needs_review'] }, notice)).toBe(false);
    expect(wants({ projects: null, events: ['question'] }, notice)).toBe(false);
    expect(NOTIFICATION_KINDS).toContain('daily_digest');
  });
});

describe('bursts', () => {
  it('gathers each key once, keeping the first, in the order seen', () => {
    fc.assert(
      fc.property(fc.array(noticeArb), fc.array(noticeArb), (first, second) => {
        const gathered = gatherNotices(gatherNotices([], first), second);
        const keys = gathered.map((notice) => notice.key);
        expect(new Set(keys).size).toBe(keys.length);
        expect(new Set(keys)).toEqual(new Set([...first, ...second].map((notice) => notice.key)));
        // Idempotent: gathering what is already there adds nothing.
        expect(gatherNotices(gathered, [...first, ...second])).toEqual(gathered);
      }),
    );
  });

  it('sends a burst as one message once the oldest notice has waited the quiet period, never sooner than that after the last message', () => {
    fc.assert(
      fc.property(fc.array(noticeArb, { minLength: 1 }), fc.option(fc.nat(), { nil: null }), fc.nat({ max: 600_000 }), (pending, lastSentAt, quietMs) => {
        const at = sendAt(pending, lastSentAt, quietMs)!;
        expect(at).toBeGreaterThanOrEqual(Math.min(...pending.map((notice) => notice.at)) + quietMs);
        if (lastSentAt !== null) expect(at).toBeGreaterThanOrEqual(lastSentAt + quietMs);
      }),
    );
    expect(sendAt([], 0, 1000)).toBeNull();
  });

  it('lists twenty escalations in a minute in one message, each line linking to its task', () => {
    const notices: Notice[] = Array.from({ length: 20 }, (_, i) => ({ kind: 'needs_review', key: `needs_review:${i + 1}`, eventId: i, at: i * 3000, project: 'api', taskId: i + 1, detail: 'attempts exhausted' }));
    const message = composeBurst(notices, new Map([[1, 'Fix login']]), `${BASE}/`);
    expect(message.title).toBe('Orch: 20 tasks need review');
    expect(message.lines).toHaveLength(20);
    expect(message.lines[0]).toEqual({ text: 'needs review — #1 Fix login (api): attempts exhausted', url: `${BASE}/#/tasks/1` });
    expect(message.taskIds).toHaveLength(20);
  });

  it('always accounts for every notice: listed, or summed up in the last line', () => {
    fc.assert(
      fc.property(fc.array(noticeArb, { minLength: 1, maxLength: 60 }), (notices) => {
        const message = composeBurst(notices, new Map(), BASE);
        const listed = Math.min(notices.length, MAX_LINES);
        expect(message.lines.length).toBe(listed + (notices.length > MAX_LINES ? 1 : 0));
        if (notices.length > MAX_LINES) expect(message.lines.at(-1)!.text).toBe(`and ${notices.length - MAX_LINES} more`);
        for (const line of message.lines) expect(line.text).not.toMatch(/[\r\n]/);
        expect(message.url.startsWith(BASE)).toBe(true);
      }),
    );
  });
});

describe('the daily digest', () => {
  it('is due at most once per UTC day, at its hour', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 3 * 3600_000 }), { minLength: 1, maxLength: 80 }), fc.integer({ min: 0, max: 23 }), (steps, hour) => {
        let now = 1_750_000_000_000;
        let last: number | null = null;
        const sentDays: number[] = [];
        for (const step of steps) {
          now += step;
          if (digestDue(last, now, hour)) {
            expect(now - startOfUtcDay(now)).toBeGreaterThanOrEqual(hour * 3600_000);
            last = now;
            sentDays.push(startOfUtcDay(now));
          }
          expect(nextDigestAt(last, now, hour)).toBeGreaterThanOrEqual(now);
        }
        expect(new Set(sentDays).size).toBe(sentDays.length);
      }),
    );
  });

  it('sums up each project with a link to its board', () => {
    const message = composeDigest('2026-12-07', [{ name: 'api', counts: { needs_review: 2, running: 1, done: 5 }, spentTodayUsd: 1.5 }], BASE);
    expect(message.title).toBe('Orch daily digest, 2026-12-07');
    expect(message.lines).toEqual([{ text: 'api: 2 need review, 1 running, 0 queued, 0 in review, 5 done, $1.50 spent today', url: `${BASE}/#/board?project=api` }]);
  });
});

describe('escaping for each markup', () => {
  const unescapeSlack = (text: string) => text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  const unescapeHtml = (text: string) => text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');

  it('Slack: no <, > or bare & survives, and the text comes back whole', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const escaped = escapeSlack(text);
        expect(escaped).not.toMatch(/[<>]/);
        expect(escaped).not.toMatch(/&(?!amp;|lt;|gt;)/);
        expect(unescapeSlack(escaped)).toBe(text);
      }),
    );
  });

  it('Telegram HTML: no tag can open, and the text comes back whole', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const escaped = escapeHtml(text);
        expect(escaped).not.toMatch(/[<>"]/);
        expect(unescapeHtml(escaped)).toBe(text);
      }),
    );
  });

  it('Discord: every markdown character is escaped, so no mention, link or emphasis survives', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const escaped = escapeDiscord(text);
        // Read left to right, each special character is preceded by its own backslash.
        for (let i = 0; i < escaped.length; i++) {
          if (escaped[i] === '\\') {
            i++;
            continue;
          }
          expect('\\*_~`|>[]()#-<@:!.+='.includes(escaped[i]!)).toBe(false);
        }
        expect(escaped.replace(/\\(.)/gs, '$1')).toBe(text);
      }),
    );
  });

  it('renders a hostile title as text in every channel, within each limit', () => {
    const hostile = '<!channel> @everyone <b>x</b> [y](http://evil) *z* & "q"\nSecond line';
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant(hostile), fc.string({ maxLength: 300 })), { minLength: 1, maxLength: 40 }), (titles) => {
        const notices: Notice[] = titles.map((_, i) => ({ kind: 'question', key: `q${i}`, eventId: i, at: i, project: 'api', taskId: i + 1, detail: titles[i]! }));
        const message = composeBurst(notices, new Map(titles.map((title, i) => [i + 1, title])), BASE);
        expect(renderSlack(message)).not.toContain('<!channel>');
        expect(renderTelegramHtml(message)).not.toContain('<b>x');
        expect(renderTelegramHtml(message).length).toBeLessThanOrEqual(TELEGRAM_MAX);
        expect(renderDiscord(message).length).toBeLessThanOrEqual(DISCORD_MAX);
        expect(renderDiscord(message)).not.toMatch(/(^|[^\\])@everyone/);
        expect(renderPlain(message)).toContain(`Dashboard: ${message.url}`);
      }),
    );
  });

  it('keeps untrusted text on one line', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 2, max: 200 }), (text, max) => {
        const line = oneLine(text, max);
        expect(line).not.toMatch(/[\r\n\u2028\u2029]/);
        expect([...line].length).toBeLessThanOrEqual(max);
      }),
    );
  });
});
