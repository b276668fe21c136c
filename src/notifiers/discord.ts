// Discord channel webhook: `{content}` in Discord's markdown, with every mention switched off so a
// title can never ping anyone; the webhook answers 204.

import { renderDiscord } from '../core/notification-text.js';
import { JSON_HEADERS, post } from './http-post.js';
import { secretFrom, type Notifier } from './notifier.js';

export const discordNotifier: Notifier<'discord'> = {
  kind: 'discord',
  async send(target, { message, channel, env, signal }) {
    const url = target.url ?? secretFrom(env, target.url_env!, `channel ${channel.name}`);
    const body = JSON.stringify({ content: renderDiscord(message), allowed_mentions: { parse: [] }, flags: 4 /* no embeds */ });
    await post(url, { body, headers: JSON_HEADERS, signal, what: `Discord webhook of channel ${channel.name}` });
  },
};
