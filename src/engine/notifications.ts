// The notifier: each configured channel follows the store's events on its own (woken by commits, not
// a timer), gathers the notices it wants, and sends a burst as one message once the channel's quiet
// period has passed; the daily digest once a day. A send that fails is retried with backoff while new
// notices keep gathering, and it is recorded (`orch doctor`, /healthz). Nothing here is awaited by
// the scheduler, and each channel waits only on itself: a receiver that hangs holds up its own
// channel, for at most the send timeout, and nothing else.

import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay, type BackoffPolicy } from '../core/backoff.js';
import { digestDue, gatherNotices, nextDigestAt, sendAt, startOfUtcDay } from '../core/notification-batch.js';
import { composeBurst, composeDigest, type DigestProject, type NotificationMessage } from '../core/notification-text.js';
import { NOTIFYING_EVENT_TYPES, noticeFromEvent, wants, type Notice } from '../core/notifications.js';
import type { EpochMs } from '../core/types.js';
import type { NotificationChannelConfig } from '../config/settings.js';
import { sendToChannel } from '../notifiers/registry.js';
import type { HeldLock, LockProvider } from '../locks/lock-port.js';
import type { Orch } from './context.js';
import { NOTIFICATION_CURSOR, NOTIFICATION_FAILED, NOTIFICATION_SENT, readChannelRecords, type ChannelRecord } from './notification-records.js';

/** What wakes the channels: bumped when events may have been stored (the server's event feed). */
export interface NotificationWake {
  readonly generation: number;
  after(seen: number, maxMs: number, signal: AbortSignal): Promise<boolean>;
}

export interface ChannelHealth {
  name: string;
  kind: string;
  /** True while the last send failed. */
  failing: boolean;
  failures: number;
  lastError: string | null;
  lastSentAt: EpochMs | null;
  /** Notices gathered and not sent yet (a quiet period running, or a send to retry). */
  waiting: number;
}

export interface NotificationServiceOptions {
  wake: NotificationWake;
  /** Where channel secrets are read from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Longest wait between two reads when nothing wakes a channel. Default 5 s. */
  pollMs?: number;
  /** A send not answered within this is a failure. Default 15 s. */
  sendTimeoutMs?: number;
  retry?: BackoffPolicy;
  random?: () => number;
  onSent?: (channel: string, message: NotificationMessage) => void;
  onFailed?: (channel: string, error: string, failures: number) => void;
  onError?: (channel: string, error: Error) => void;
}

const DEFAULT_RETRY: BackoffPolicy = { baseMs: 2_000, capMs: 5 * 60_000, jitter: 0.2 };
/** Events read per query; more are read at once in further pages. */
const PAGE = 500;
const READ_GAP_MS = 200;
/** The lock whose holder, among hosts sharing a store, is the one that sends notifications. */
const SENDER_LOCK = 'notifications';

/** Waits `ms`, or less when the signal fires (an abort ends the wait; it is not an error here). */
const pause = (ms: number, signal: AbortSignal): Promise<void> => sleep(ms, undefined, { signal }).catch(() => undefined);

interface ChannelState {
  cursor: number;
  readPos: number;
  pending: Notice[];
  lastSentAt: EpochMs | null;
  lastDigestAt: EpochMs | null;
  failures: number;
  retryAt: EpochMs | null;
}

export class NotificationService {
  private readonly controller = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private readonly states = new Map<string, ChannelHealth>();
  /** Aborted when this process stops being the sender; the channels' loops end with it. */
  private term = new AbortController();
  private leading = false;
  private holding = false;
  private leadership: Promise<void> = Promise.resolve();

  constructor(
    private readonly orch: Orch,
    private readonly options: NotificationServiceOptions,
  ) {}

  /**
   * Reads each channel's record and starts following; resolves once every channel follows. Hosts
   * sharing a PostgreSQL store elect one sender: only the holder of the `notifications` lock follows,
   * and when it goes (its connection with it) another takes over from the stored cursors. Those
   * hosts resolve at once and follow once they hold the lock.
   */
  async start(): Promise<void> {
    if (!this.orch.sharedLocks) {
      this.leading = true;
      await this.followNewChannels();
      return;
    }
    this.leadership = this.lead(this.orch.sharedLocks);
  }

  /** After a config reload: channels added start following (removed ones stop on their own). */
  reload(): Promise<void> {
    return this.followNewChannels();
  }

  /** True while this process is the one sending (always, without hosts to share with). */
  isSender(): boolean {
    return this.leading;
  }

  private async lead(locks: LockProvider): Promise<void> {
    const signal = this.controller.signal;
    while (!signal.aborted) {
      let held: HeldLock & { lost?: boolean };
      try {
        held = await locks.acquire(SENDER_LOCK);
      } catch (error) {
        // The provider closed (this Orch is closing) or the database is away: try again later.
        if (!signal.aborted) this.options.onError?.('notifications', error as Error);
        await pause(5_000, signal);
        continue;
      }
      if (signal.aborted) {
        await held.release();
        return;
      }
      this.holding = true;
      this.term = new AbortController();
      this.leading = true;
      await this.followNewChannels().catch((error: Error) => this.options.onError?.('notifications', error));
      // Follow until stopped or until the connection that holds the lock drops (another host may send now).
      while (!signal.aborted && held.lost !== true) await pause(1_000, signal);
      this.leading = false;
      this.term.abort();
      await Promise.all(this.loops.splice(0));
      this.states.clear();
      await held.release();
      this.holding = false;
    }
  }

  private async followNewChannels(): Promise<void> {
    if (this.controller.signal.aborted || !this.leading) return;
    const channels = this.orch.config.notifications.filter((channel) => !this.states.has(channel.name));
    if (channels.length === 0) return;
    const records = await readChannelRecords(this.orch.store, channels.map((channel) => channel.name));
    for (const channel of channels) {
      if (this.states.has(channel.name)) continue; // a reload raced this one
      const record = records.get(channel.name)!;
      this.states.set(channel.name, {
        name: channel.name,
        kind: channel.kind,
        failing: record.lastFailure !== null,
        failures: record.lastFailure?.failures ?? 0,
        lastError: record.lastFailure?.error ?? null,
        lastSentAt: record.lastSentAt,
        waiting: 0,
      });
      const cursor = record.cursor ?? (await this.startCursor(channel.name));
      this.loops.push(this.follow(channel.name, record, cursor));
    }
  }

  /** Each channel's state, for /healthz and the logs. */
  health(): ChannelHealth[] {
    return [...this.states.values()].map((state) => ({ ...state }));
  }

  /** Stops every channel; a send under way is abandoned (it is sent again after a restart). */
  async stop(): Promise<void> {
    this.controller.abort();
    await Promise.all(this.loops);
    // Waited for only while it holds the lock: a wait for the lock ends when this Orch closes its locks.
    if (this.holding) await this.leadership;
  }

  /** A new channel hears of what happens from now on, not of the store's history. */
  private async startCursor(channel: string): Promise<number> {
    const through = await this.orch.store.latestEventId();
    await this.orch.store.appendEvent({ type: NOTIFICATION_CURSOR, data: { channel, through } }, this.orch.now());
    return through;
  }

  private async follow(name: string, record: ChannelRecord, cursor: number): Promise<void> {
    const { wake } = this.options;
    const signal = AbortSignal.any([this.controller.signal, this.term.signal]);
    const pollMs = this.options.pollMs ?? 5_000;
    let lastReadAt = 0;
    const state: ChannelState = { cursor, readPos: cursor, pending: [], lastSentAt: record.lastSentAt, lastDigestAt: record.lastDigestAt, failures: 0, retryAt: null };
    while (!signal.aborted) {
      // A config reload may change a channel's settings, or remove it: it stops, its record kept.
      const channel = this.orch.config.notifications.find((c) => c.name === name);
      if (!channel) {
        this.states.delete(name);
        return;
      }
      // Busy agents commit their output every few milliseconds: a channel reads at most every READ_GAP_MS.
      const sinceRead = Date.now() - lastReadAt;
      if (sinceRead < READ_GAP_MS) await pause(READ_GAP_MS - sinceRead, signal);
      if (signal.aborted) return;
      lastReadAt = Date.now();
      const seen = wake.generation;
      try {
        await this.read(channel, state);
        const now = this.orch.now();
        const due = this.burstDue(channel, state);
        if (due !== null && now >= due) await this.sendBurst(channel, state);
        else if (this.digestWanted(channel, state, now)) await this.sendDigest(channel, state);
      } catch (error) {
        if (!signal.aborted) this.options.onError?.(channel.name, error as Error);
      }
      const now = this.orch.now();
      const next = [this.burstDue(channel, state), channel.events.includes('daily_digest') ? Math.max(nextDigestAt(state.lastDigestAt, now, channel.digestHourUtc), state.retryAt ?? 0) : null].filter((at): at is number => at !== null);
      const waitMs = Math.min(pollMs, ...next.map((at) => Math.max(0, at - now)));
      if (waitMs > 0 && !signal.aborted) await wake.after(seen, waitMs, signal);
    }
  }

  private burstDue(channel: NotificationChannelConfig, state: ChannelState): EpochMs | null {
    const due = sendAt(state.pending, state.lastSentAt, channel.quietS * 1000);
    return due === null ? null : Math.max(due, state.retryAt ?? 0);
  }

  private digestWanted(channel: NotificationChannelConfig, state: ChannelState, now: EpochMs): boolean {
    if (!channel.events.includes('daily_digest')) return false;
    if (state.retryAt !== null && now < state.retryAt) return false;
    return digestDue(state.lastDigestAt, now, channel.digestHourUtc);
  }

  /** Everything stored since the channel last read, as notices it wants. */
  private async read(channel: NotificationChannelConfig, state: ChannelState): Promise<void> {
    for (;;) {
      const events = await this.orch.store.listEvents({ afterId: state.readPos, types: [...NOTIFYING_EVENT_TYPES], limit: PAGE });
      const incoming: Notice[] = [];
      for (const event of events) {
        const notice = noticeFromEvent(event);
        if (notice && wants(channel, notice)) incoming.push(notice);
        state.readPos = event.id;
      }
      state.pending = gatherNotices(state.pending, incoming);
      const health = this.states.get(channel.name);
      if (health) health.waiting = state.pending.length;
      if (events.length < PAGE) return;
    }
  }

  private async sendBurst(channel: NotificationChannelConfig, state: ChannelState): Promise<void> {
    const batch = state.pending;
    const through = state.readPos;
    const message = composeBurst(batch, await this.titles(batch), channel.dashboardUrl);
    if (!(await this.deliver(channel, message, state))) return;
    const now = this.orch.now();
    // Only what was read when the message was made is sent; what came since stays for the next.
    state.pending = state.pending.filter((notice) => !batch.includes(notice));
    const health = this.states.get(channel.name);
    if (health) health.waiting = state.pending.length;
    state.cursor = through;
    state.lastSentAt = now;
    await this.record(channel, { through, kinds: message.kinds, count: batch.length, taskIds: message.taskIds }, now);
  }

  private async sendDigest(channel: NotificationChannelConfig, state: ChannelState): Promise<void> {
    const now = this.orch.now();
    const projects = Object.keys(this.orch.config.projects).filter((name) => channel.projects === null || channel.projects.includes(name));
    const spent = await this.orch.store.runCostSince(startOfUtcDay(now));
    const facts: DigestProject[] = [];
    for (const name of projects) facts.push({ name, counts: await this.orch.store.countTasksByState(name), spentTodayUsd: spent.get(name) ?? 0 });
    const message = composeDigest(new Date(now).toISOString().slice(0, 10), facts, channel.dashboardUrl);
    if (!(await this.deliver(channel, message, state))) return;
    state.lastDigestAt = now;
    await this.record(channel, { through: state.cursor, kinds: message.kinds, count: facts.length, taskIds: [], digest: true }, now);
  }

  private async record(channel: NotificationChannelConfig, data: Record<string, unknown>, now: EpochMs): Promise<void> {
    await this.orch.store.appendEvent({ type: NOTIFICATION_SENT, data: { channel: channel.name, ...data } }, now);
    const health = this.states.get(channel.name);
    if (health) Object.assign(health, { failing: false, failures: 0, lastError: null, lastSentAt: now });
  }

  /** One try; a failure schedules the next with backoff and is recorded. True when the channel took it. */
  private async deliver(channel: NotificationChannelConfig, message: NotificationMessage, state: ChannelState): Promise<boolean> {
    const signal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(this.options.sendTimeoutMs ?? 15_000)]);
    try {
      await sendToChannel({ message, channel, env: this.options.env ?? process.env, signal, now: this.orch.now() });
    } catch (error) {
      if (this.controller.signal.aborted) return false;
      const now = this.orch.now();
      const text = (error as Error).message.split('\n')[0]!;
      state.failures++;
      state.retryAt = now + backoffDelay(state.failures, this.options.retry ?? DEFAULT_RETRY, this.options.random ?? Math.random);
      const health = this.states.get(channel.name);
      if (health) Object.assign(health, { failing: true, failures: state.failures, lastError: text });
      this.options.onFailed?.(channel.name, text, state.failures);
      await this.orch.store.appendEvent({ type: NOTIFICATION_FAILED, data: { channel: channel.name, error: text, failures: state.failures, retryAt: state.retryAt } }, now);
      return false;
    }
    state.failures = 0;
    state.retryAt = null;
    this.options.onSent?.(channel.name, message);
    return true;
  }

  /** The titles of the tasks the notices name (a removed task has none). */
  private async titles(notices: readonly Notice[]): Promise<Map<number, string>> {
    const titles = new Map<number, string>();
    for (const taskId of new Set(notices.flatMap((notice) => (notice.taskId === null ? [] : [notice.taskId])))) {
      const task = await this.orch.store.getTask(taskId);
      if (task) titles.set(taskId, task.title);
    }
    return titles;
  }
}
