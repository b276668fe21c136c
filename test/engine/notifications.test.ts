import { createHmac } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openOrch, type Orch } from '../../src/engine/context.js';
import { startDaemon, type Daemon } from '../../src/engine/daemon.js';
import { diagnose } from '../../src/engine/doctor.js';
import { applyTransition } from '../../src/engine/transitions.js';
import { SIGNATURE_HEADER } from '../../src/notifiers/webhook.js';
import { makeRepo, tempDir } from '../helpers/git.js';
import { startHangingReceiver, refusedPort, type HangingReceiver } from '../rig/fake-notify/down-receivers.js';
import { startHttpReceivers, type HttpReceivers } from '../rig/fake-notify/http-receivers.js';
import { startSmtpReceiver, type SmtpReceiver } from '../rig/fake-notify/smtp-receiver.js';
import { eventually } from '../workspace/fixtures.js';

// Every kind of channel against its loopback stand-in, through a real daemon on a real store: a burst
// of escalations is one message per channel, with links into the served dashboard; a channel whose
// receiver refuses or hangs holds up no other channel and no scheduler tick; a restart sends nothing
// twice.

const SECRETS = { ORCH_TEST_SLACK_URL: '', ORCH_TEST_TELEGRAM_TOKEN: '123456:telegram-token', ORCH_TEST_WEBHOOK_SECRET: 'sign-with-this', ORCH_TEST_SMTP_PASSWORD: 'smtp-password' };
const NASTY_TITLE = 'Fix <!channel> *now* @everyone <b>bold</b> & [click](http://evil.example)';

let scratch: { path: string; cleanup: () => void };
let orch: Orch;
let http: HttpReceivers;
let smtp: SmtpReceiver;
let hanging: HangingReceiver;
let daemon: Daemon | null = null;
let port: number;
let env: NodeJS.ProcessEnv;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const found = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return found;
}

beforeEach(async () => {
  scratch = tempDir('orch-notify-');
  const repo = makeRepo(scratch.path, 'app');
  http = await startHttpReceivers();
  smtp = await startSmtpReceiver();
  hanging = await startHangingReceiver();
  port = await freePort();
  env = { PATH: process.env.PATH, ...SECRETS, ORCH_TEST_SLACK_URL: http.endpoints.slack };
  const home = join(scratch.path, 'home');
  mkdirSync(home);
  const quick = { quiet_s: 0, projects: ['app'] };
  const config = {
    server: { port },
    scheduler: { tick_interval_s: 0.2 },
    projects: { app: { path: repo, sandbox: 'off' } },
    notifications: [
      { kind: 'slack', url_env: 'ORCH_TEST_SLACK_URL', ...quick },
      { kind: 'discord', url: http.endpoints.discord, ...quick },
      { kind: 'telegram', token_env: 'ORCH_TEST_TELEGRAM_TOKEN', chat_id: -100123, api_url: http.endpoints.telegramApi, ...quick },
      { kind: 'ntfy', server: http.endpoints.ntfyServer, topic: 'orch-alerts', ...quick },
      { kind: 'email', host: '127.0.0.1', port: smtp.port, tls: 'none', from: 'orch@example.com', to: ['ops@example.com'], username: 'orch', password_env: 'ORCH_TEST_SMTP_PASSWORD', ...quick },
      { kind: 'webhook', url: http.endpoints.webhook, secret_env: 'ORCH_TEST_WEBHOOK_SECRET', ...quick },
      { kind: 'slack', name: 'hangs', url: `${hanging.url}/slack/hook`, ...quick },
      { kind: 'discord', name: 'refused', url: `http://127.0.0.1:${await refusedPort()}/discord`, ...quick },
    ],
  };
  writeFileSync(join(home, 'config.yaml'), JSON.stringify(config));
  orch = await openOrch(home);
});

afterEach(async () => {
  await daemon?.stop(0);
  daemon = null;
  await orch.close();
  await Promise.all([http.close(), smtp.close(), hanging.close()]);
  scratch.cleanup();
});

const silent = pino({ level: 'silent' });
let cursorsRecorded = 0;
async function countCursors(): Promise<void> {
  cursorsRecorded = (await orch.store.listEvents({ types: ['notification.cursor'] })).length;
}

/** `titles.length` tasks created and escalated in one transaction: a burst the channels see at once. */
async function escalateBurst(titles: string[]): Promise<number[]> {
  return orch.store.transaction(async (tx) => {
    const ids: number[] = [];
    for (const title of titles) {
      const task = await tx.createTask({ project: 'app', title }, orch.now(), { type: 'task.created' });
      await applyTransition(tx, task, 'escalate', { now: orch.now(), reason: 'attempts exhausted' });
      ids.push(task.id);
    }
    return ids;
  });
}

const working = () => ({
  slack: http.of('slack').length,
  discord: http.of('discord').length,
  telegram: http.of('telegram').length,
  ntfy: http.of('ntfy').length,
  webhook: http.of('webhook').length,
  email: smtp.received.length,
});
const everyWorkingChannelHas = (count: number) => Object.values(working()).every((n) => n === count);

async function waitForCursors(): Promise<void> {
  cursorsRecorded = 0;
  const deadline = Date.now() + 30_000;
  while (cursorsRecorded < 8 && Date.now() < deadline) {
    await countCursors();
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('notifications from a running daemon', () => {
  it('tell each channel of a burst once, with working links, whatever the receivers that are down do', async () => {
    daemon = await startDaemon(orch, { logger: silent, sourceEnv: env, notificationPollMs: 200 });
    await waitForCursors();
    expect(cursorsRecorded).toBe(8);

    const ids = await escalateBurst([NASTY_TITLE, ...Array.from({ length: 19 }, (_, i) => `Task ${i + 2}`)]);
    expect(await eventually(() => everyWorkingChannelHas(1), 30_000)).toBe(true);

    // The hanging receiver was reached and has not answered; the scheduler ticked on meanwhile.
    expect(await eventually(() => hanging.connections > 0, 30_000)).toBe(true);
    const ticks = daemon.scheduler.stats.ticks;
    expect(await eventually(() => daemon!.scheduler.stats.ticks > ticks + 2, 30_000)).toBe(true);

    const link = `http://127.0.0.1:${port}/#/tasks/${ids[0]}`;
    const slack = http.of('slack')[0]!.json.text as string;
    expect(slack).toContain('20 tasks need review');
    expect(slack).toContain(`<${link}|`);
    expect(slack).toContain('&lt;!channel&gt;');
    expect(slack).not.toContain('<!channel>');

    const discord = http.of('discord')[0]!.json;
    expect(discord.allowed_mentions).toEqual({ parse: [] });
    expect(discord.content).toContain(`(<${link}>)`);
    expect(discord.content).not.toMatch(/(^|[^\\])@everyone/);

    const telegram = http.of('telegram')[0]!;
    expect(telegram.path).toBe(`/telegram/bot${encodeURIComponent(SECRETS.ORCH_TEST_TELEGRAM_TOKEN)}/sendMessage`);
    expect(telegram.json).toMatchObject({ chat_id: -100123, parse_mode: 'HTML' });
    expect(telegram.json.text).toContain(`<a href="${link}">`);
    expect(telegram.json.text).toContain('&lt;b&gt;bold&lt;/b&gt;');

    const ntfy = http.of('ntfy')[0]!.json;
    expect(ntfy).toMatchObject({ topic: 'orch-alerts', title: 'Orch: 20 tasks need review', click: `http://127.0.0.1:${port}/#/` });
    expect(ntfy.message).toContain(link);

    const mail = smtp.received[0]!;
    expect(mail).toMatchObject({ from: 'orch@example.com', to: ['ops@example.com'], auth: { username: 'orch', password: 'smtp-password' }, subject: 'Orch: 20 tasks need review' });
    expect(mail.text).toContain(link);
    expect(mail.text).toContain(NASTY_TITLE);

    // The webhook's signature is the HMAC-SHA256 of the body with the shared secret.
    const webhook = http.of('webhook')[0]!;
    const expected = `sha256=${createHmac('sha256', SECRETS.ORCH_TEST_WEBHOOK_SECRET).update(webhook.body).digest('hex')}`;
    expect(webhook.headers[SIGNATURE_HEADER.toLowerCase()]).toBe(expected);
    expect(webhook.json).toMatchObject({ channel: 'webhook', kinds: ['needs_review'], taskIds: ids });

    // The link opens the served dashboard.
    const page = await fetch(link.replace(/#.*$/, ''), { headers: { authorization: `Bearer ${daemon.token}` } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="app">');

    // The refused channel is recorded failing: the health route and `orch doctor` say so.
    expect(await eventually(() => daemon!.notifications.health().some((c) => c.name === 'refused' && c.failing), 30_000)).toBe(true);
    const health = (await (await fetch(`${daemon.url}/healthz`)).json()) as Record<string, unknown>;
    expect(health.notifications).toBe('failing');
    const checks = await diagnose(orch.home, env);
    expect(checks.find((check) => check.name === 'notify refused')).toMatchObject({ status: 'warn', detail: expect.stringContaining('ECONNREFUSED') });
    expect(checks.find((check) => check.name === 'notify slack')).toMatchObject({ status: 'ok' });

    // A restart sends nothing again: the next message is of the next escalation alone.
    await daemon.stop(0);
    daemon = await startDaemon(orch, { logger: silent, sourceEnv: env, notificationPollMs: 200 });
    const [later] = await escalateBurst(['One more']);
    expect(await eventually(() => everyWorkingChannelHas(2), 30_000)).toBe(true);
    expect(http.of('slack')[1]!.json.text).toContain('a task needs review');
    expect(http.of('webhook')[1]!.json).toMatchObject({ taskIds: [later] });
    expect(smtp.received[1]!.subject).toBe('Orch: a task needs review');
    expect(working()).toEqual({ slack: 2, discord: 2, telegram: 2, ntfy: 2, webhook: 2, email: 2 });
  }, 120_000);

  it('keep what a channel gathered but had not sent across a restart, send the daily digest once a day, and follow a channel added by a reload', async () => {
    const webhookOnly = (quiet: number) => ({
      server: { port },
      projects: { app: { path: join(scratch.path, 'app'), sandbox: 'off' } },
      notifications: [{ kind: 'webhook', url: http.endpoints.webhook, secret_env: 'ORCH_TEST_WEBHOOK_SECRET', events: ['needs_review', 'approval_waiting', 'daily_digest'], digest_hour_utc: 0, quiet_s: quiet }],
    });
    const reopen = async (quiet: number) => {
      await orch.close();
      writeFileSync(join(orch.home, 'config.yaml'), JSON.stringify(webhookOnly(quiet)));
      orch = await openOrch(orch.home);
    };
    const received = () => http.of('webhook').map((post) => post.json);

    // An hour of quiet: the escalation waits, gathered, when the daemon stops.
    await reopen(3600);
    daemon = await startDaemon(orch, { logger: silent, sourceEnv: env, notificationPollMs: 200 });
    expect(await eventually(() => received().length === 1, 30_000)).toBe(true);
    expect(received()[0]).toMatchObject({ kinds: ['daily_digest'], lines: [{ url: `http://127.0.0.1:${port}/#/board?project=app` }] });
    const [waiting] = await escalateBurst(['Gathered, not yet sent']);
    expect(await eventually(() => daemon!.notifications.health()[0]!.waiting === 1, 30_000)).toBe(true);
    await daemon.stop(0);
    daemon = null;
    expect(received()).toHaveLength(1);

    // Restarted with no quiet period: the gathered escalation goes out, and today's digest not again.
    await reopen(0);
    daemon = await startDaemon(orch, { logger: silent, sourceEnv: env, notificationPollMs: 200 });
    expect(await eventually(() => received().length === 2, 30_000)).toBe(true);
    expect(received()[1]).toMatchObject({ kinds: ['needs_review'], taskIds: [waiting] });
    const [next] = await escalateBurst(['And the next']);
    expect(await eventually(() => received().length === 3, 30_000)).toBe(true);
    expect(received()[2]).toMatchObject({ kinds: ['needs_review'], taskIds: [next] });
    expect(received().filter((json) => (json.kinds as string[]).includes('daily_digest'))).toHaveLength(1);

    // A channel added to the running daemon's config follows from then on; an approval waiting reaches both.
    const withNtfy = webhookOnly(0);
    writeFileSync(join(orch.home, 'config.yaml'), JSON.stringify({ ...withNtfy, notifications: [...withNtfy.notifications, { kind: 'ntfy', server: http.endpoints.ntfyServer, topic: 'added', quiet_s: 0 }] }));
    let ntfyFollows = false;
    for (let i = 0; i < 1200 && !ntfyFollows; i++) {
      ntfyFollows = (await orch.store.listEvents({ types: ['notification.cursor'] })).some((e) => e.data.channel === 'ntfy');
      if (!ntfyFollows) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(ntfyFollows).toBe(true);
    await orch.store.appendEvent({ type: 'approval.requested', project: 'app', taskId: next, data: { id: 'perm-1', kind: 'permission', project: 'app', taskId: next, tool: 'Bash', command: 'npm publish' } }, orch.now());
    expect(await eventually(() => received().length === 4 && http.of('ntfy').length === 1, 30_000)).toBe(true);
    expect(received()[3]).toMatchObject({ kinds: ['approval_waiting'], title: 'Orch: an approval is waiting', taskIds: [next], url: `http://127.0.0.1:${port}/#/inbox` });
    expect(http.of('ntfy')[0]!.json).toMatchObject({ topic: 'added', title: 'Orch: an approval is waiting', priority: 4 });
    expect(http.of('ntfy')[0]!.json.message).toContain('Bash: npm publish');
  }, 120_000);
});
