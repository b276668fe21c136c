// The words of a notification and their markup for each channel. A message is data (a title, lines
// each with a link); each channel renders it in its own markup, escaping every piece of text that came
// from a task, an agent or a tracker so that a title can neither format, mention nor link anything.

import type { TaskState } from './types.js';
import type { EventNotificationKind, Notice, NotificationKind } from './notifications.js';

export interface MessageLine {
  /** Plain text, unescaped: renderers escape it for their markup. */
  text: string;
  /** Where to look at it; null when there is nothing to open. */
  url: string | null;
}

export interface NotificationMessage {
  kinds: NotificationKind[];
  title: string;
  lines: MessageLine[];
  /** The dashboard's page for all of it. */
  url: string;
  /** The task ids the message speaks of. */
  taskIds: number[];
}

/** Lines a message lists before it sums the rest up ("and 12 more"). */
export const MAX_LINES = 20;

const KIND_WORDS: Record<EventNotificationKind, { one: string; many: string; tag: string }> = {
  approval_waiting: { one: 'an approval is waiting', many: 'approvals are waiting', tag: 'approval waiting' },
  question: { one: 'an agent asks a question', many: 'agents ask questions', tag: 'question' },
  needs_review: { one: 'a task needs review', many: 'tasks need review', tag: 'needs review' },
  project_paused: { one: 'a project is paused', many: 'projects are paused', tag: 'project paused' },
  budget_reached: { one: 'a budget is reached', many: 'budgets are reached', tag: 'budget reached' },
};

/** The dashboard's address without a trailing slash. */
const trimBase = (base: string) => base.replace(/\/+$/, '');
export const dashboardLink = (base: string) => `${trimBase(base)}/#/`;
/** The dashboard's inbox, where a person approves, denies and answers what agents wait on. */
export const inboxLink = (base: string) => `${trimBase(base)}/#/inbox`;
const asksPerson = (notice: Notice) => notice.kind === 'approval_waiting' || notice.kind === 'question';
export const taskLink = (base: string, taskId: number) => `${trimBase(base)}/#/tasks/${taskId}`;
export const projectLink = (base: string, project: string) => `${trimBase(base)}/#/board?project=${encodeURIComponent(project)}`;

const isControl = (char: string) => {
  const code = char.codePointAt(0)!;
  return code < 0x20 || code === 0x7f || code === 0x2028 || code === 0x2029;
};

/** Untrusted text on one line, cut to `max` characters. */
export function oneLine(text: string, max: number): string {
  // Control characters (line breaks included) become spaces: a line stays one line in every markup.
  const flat = [...text].map((char) => (isControl(char) ? ' ' : char)).join('').replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

function noticeLine(notice: Notice, titles: ReadonlyMap<number, string>, base: string): MessageLine {
  const tag = KIND_WORDS[notice.kind].tag;
  const about: string[] = [];
  if (notice.taskId !== null) {
    const title = titles.get(notice.taskId);
    about.push(`#${notice.taskId}${title ? ` ${oneLine(title, 80)}` : ''}`);
  }
  if (notice.project !== null) about.push(`(${notice.project})`);
  const detail = notice.detail ? `: ${oneLine(notice.detail, 160)}` : '';
  const url = asksPerson(notice) ? inboxLink(base) : notice.taskId !== null ? taskLink(base, notice.taskId) : notice.project !== null ? projectLink(base, notice.project) : dashboardLink(base);
  return { text: `${tag} — ${about.join(' ')}${detail}`.replace(/ — $/, ''), url };
}

/** One message for a batch of notices: what they are, each on a line with its link. */
export function composeBurst(notices: readonly Notice[], titles: ReadonlyMap<number, string>, base: string): NotificationMessage {
  const kinds = [...new Set(notices.map((notice) => notice.kind))];
  const counted = kinds.map((kind) => {
    const count = notices.filter((notice) => notice.kind === kind).length;
    return count === 1 ? KIND_WORDS[kind].one : `${count} ${KIND_WORDS[kind].many}`;
  });
  const title = `Orch: ${counted.join(', ')}`;
  const shown = notices.slice(0, MAX_LINES).map((notice) => noticeLine(notice, titles, base));
  const rest = notices.length - shown.length;
  const lines = rest > 0 ? [...shown, { text: `and ${rest} more`, url: dashboardLink(base) }] : shown;
  const taskIds = [...new Set(notices.flatMap((notice) => (notice.taskId === null ? [] : [notice.taskId])))];
  const onlyTask = taskIds.length === 1 && notices.every((notice) => notice.taskId !== null);
  const url = notices.every(asksPerson) ? inboxLink(base) : onlyTask ? taskLink(base, taskIds[0]!) : dashboardLink(base);
  return { kinds, title, lines, url, taskIds };
}

/** What a daily digest reports of one project. */
export interface DigestProject {
  name: string;
  counts: Partial<Record<TaskState, number>>;
  spentTodayUsd: number;
}

/** The day's summary: per project, what waits on a person, what runs, what is done, and the spend. */
export function composeDigest(day: string, projects: readonly DigestProject[], base: string): NotificationMessage {
  const lines = projects.map((project) => {
    const count = (state: TaskState) => project.counts[state] ?? 0;
    const parts = [
      `${count('needs_review')} need review`,
      `${count('running') + count('judging') + count('merging')} running`,
      `${count('new') + count('routed')} queued`,
      `${count('in_review')} in review`,
      `${count('done')} done`,
      `$${project.spentTodayUsd.toFixed(2)} spent today`,
    ];
    return { text: `${project.name}: ${parts.join(', ')}`, url: projectLink(base, project.name) };
  });
  return { kinds: ['daily_digest'], title: `Orch daily digest, ${day}`, lines: lines.length > 0 ? lines : [{ text: 'no projects', url: null }], url: dashboardLink(base), taskIds: [] };
}

// ---------------------------------------------------------------- escaping and markup

/** Slack mrkdwn: only &, < and > are special (they open links and mentions). */
export const escapeSlack = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** HTML text and attribute values (Telegram's HTML parse mode). */
export const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Characters Discord's markdown gives a meaning to (emphasis, code, quotes, links, headings, lists, mentions). */
export const DISCORD_SPECIALS = '\\*_~`|>[]()#-<@:!.+=';
const DISCORD_SPECIAL = /[\\*_~`|>[\]()#\-<@:!.+=]/g;
/** Discord markdown: every special character backslash-escaped, so `@everyone` or `[x](y)` is text. */
export const escapeDiscord = (text: string) => text.replace(DISCORD_SPECIAL, (char) => `\\${char}`);

export function renderSlack(message: NotificationMessage): string {
  const lines = message.lines.map((line) => (line.url ? `• <${escapeSlack(line.url)}|${escapeSlack(line.text)}>` : `• ${escapeSlack(line.text)}`));
  return [`*${escapeSlack(message.title)}*`, ...lines, `<${escapeSlack(message.url)}|Open the dashboard>`].join('\n');
}

/** Discord's content limit. */
export const DISCORD_MAX = 2000;

export function renderDiscord(message: NotificationMessage): string {
  const head = `**${escapeDiscord(message.title)}**`;
  const tail = `[Open the dashboard](<${message.url}>)`;
  const lines = message.lines.map((line) => (line.url ? `- [${escapeDiscord(line.text)}](<${line.url}>)` : `- ${escapeDiscord(line.text)}`));
  // Lines are dropped from the end until the whole fits; the dashboard link stays.
  while (lines.length > 0 && [head, ...lines, tail].join('\n').length > DISCORD_MAX) lines.pop();
  return [head, ...lines, tail].join('\n');
}

/** Telegram's limit of a message's text. */
export const TELEGRAM_MAX = 4096;

export function renderTelegramHtml(message: NotificationMessage): string {
  const head = `<b>${escapeHtml(message.title)}</b>`;
  const tail = `<a href="${escapeHtml(message.url)}">Open the dashboard</a>`;
  const lines = message.lines.map((line) => (line.url ? `• <a href="${escapeHtml(line.url)}">${escapeHtml(line.text)}</a>` : `• ${escapeHtml(line.text)}`));
  while (lines.length > 0 && [head, ...lines, tail].join('\n').length > TELEGRAM_MAX) lines.pop();
  return [head, ...lines, tail].join('\n');
}

/** Plain text (ntfy, email): no markup to escape; each link on its own line. */
export function renderPlain(message: NotificationMessage): string {
  const lines = message.lines.flatMap((line) => (line.url ? [`- ${line.text}`, `  ${line.url}`] : [`- ${line.text}`]));
  return [...lines, '', `Dashboard: ${message.url}`].join('\n');
}
