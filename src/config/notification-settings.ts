// `notifications:` resolved: each channel's shared settings with their defaults filled in.

import { NOTIFICATION_KINDS } from '../core/notifications.js';
// Types only from notification-schema.ts: resolving a checked config (a cached one too) needs no zod.
import type { NotificationChannelFile } from './notification-schema.js';
import type { NotificationChannelConfig, ServerConfig } from './settings.js';

/** A channel's name: its own, or its kind's. */
export const channelName = (channel: Pick<NotificationChannelFile, 'name' | 'kind'>) => channel.name ?? channel.kind;

export const DEFAULT_QUIET_S = 30;
export const DEFAULT_DIGEST_HOUR_UTC = 8;
/** Every kind but the digest, which a channel asks for by name. */
export const DEFAULT_NOTIFICATION_EVENTS = NOTIFICATION_KINDS.filter((kind) => kind !== 'daily_digest');

/** The server's own address as a browser on this machine reaches it (a wildcard address is not one). */
export function serverDashboardUrl(server: ServerConfig): string {
  const host = server.host === '0.0.0.0' || server.host === '::' ? '127.0.0.1' : server.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${server.port}`;
}

export function resolveNotifications(channels: readonly NotificationChannelFile[] | undefined, server: ServerConfig): NotificationChannelConfig[] {
  return (channels ?? []).map((channel) => ({
    name: channelName(channel),
    kind: channel.kind,
    projects: channel.projects ? [...channel.projects] : null,
    events: channel.events ? [...new Set(channel.events)] : [...DEFAULT_NOTIFICATION_EVENTS],
    quietS: channel.quiet_s ?? DEFAULT_QUIET_S,
    dashboardUrl: (channel.dashboard_url ?? serverDashboardUrl(server)).replace(/\/+$/, ''),
    digestHourUtc: channel.digest_hour_utc ?? DEFAULT_DIGEST_HOUR_UTC,
    target: structuredClone(channel),
  }));
}
