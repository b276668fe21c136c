// The notifier port: one adapter per kind of channel (Slack, Discord, ...) turns a message into that
// channel's request and sends it. The engine decides what to send and when (src/engine/notifications.ts);
// an adapter only speaks its channel's protocol, and throws when the channel did not take the message.

import type { NotificationMessage } from '../core/notification-text.js';
import type { NotificationChannelConfig } from '../config/settings.js';
import type { NotificationChannelFile } from '../config/notification-schema.js';

export type NotifierKind = NotificationChannelFile['kind'];

/** The written settings of a channel of one kind. */
export type ChannelTarget<K extends NotifierKind> = Extract<NotificationChannelFile, { kind: K }>;

export interface Delivery {
  message: NotificationMessage;
  channel: NotificationChannelConfig;
  /** The daemon's environment, where the channel's secrets are. */
  env: NodeJS.ProcessEnv;
  /** Aborts the send (Orch stopping, or the send taking too long). */
  signal: AbortSignal;
  /** When it is sent (an email's Date header). */
  now: number;
}

export interface Notifier<K extends NotifierKind = NotifierKind> {
  kind: K;
  /** Sends one message; resolves once the channel took it, throws NotifyError otherwise. */
  send(target: ChannelTarget<K>, delivery: Delivery): Promise<void>;
}

/** A channel refused or could not be reached; the message says which and why, on one line. */
export class NotifyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotifyError';
  }
}

/** A secret from the daemon's environment, or a NotifyError naming the variable to set. */
export function secretFrom(env: NodeJS.ProcessEnv, name: string, what: string): string {
  const value = env[name];
  if (value === undefined || value === '') throw new NotifyError(`${what}: environment variable ${name} is not set`);
  return value;
}
