// The notifier for each kind of channel: adding a kind is its file in this folder, its entry in the
// config schema (config/notification-schema.ts) and its line here (docs/NOTIFICATIONS.md).

import { discordNotifier } from './discord.js';
import { emailNotifier } from './email.js';
import type { ChannelTarget, Delivery, Notifier, NotifierKind } from './notifier.js';
import { ntfyNotifier } from './ntfy.js';
import { slackNotifier } from './slack.js';
import { telegramNotifier } from './telegram.js';
import { webhookNotifier } from './webhook.js';

const NOTIFIERS: { [K in NotifierKind]: Notifier<K> } = {
  slack: slackNotifier,
  discord: discordNotifier,
  telegram: telegramNotifier,
  ntfy: ntfyNotifier,
  email: emailNotifier,
  webhook: webhookNotifier,
};

export const NOTIFIER_KINDS = Object.keys(NOTIFIERS) as NotifierKind[];

/** Sends a message to a channel with the notifier of its kind. */
export function sendToChannel(delivery: Delivery): Promise<void> {
  const target = delivery.channel.target;
  const notifier = NOTIFIERS[target.kind] as Notifier<typeof target.kind>;
  return notifier.send(target as ChannelTarget<typeof target.kind>, delivery);
}
