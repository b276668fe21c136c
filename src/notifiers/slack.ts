// Slack incoming webhook: `{text}` in mrkdwn; the webhook answers 200 "ok".

import { renderSlack } from '../core/notification-text.js';
import { JSON_HEADERS, post } from './http-post.js';
import { secretFrom, type Notifier } from './notifier.js';

export const slackNotifier: Notifier<'slack'> = {
  kind: 'slack',
  async send(target, { message, channel, env, signal }) {
    const url = target.url ?? secretFrom(env, target.url_env!, `channel ${channel.name}`);
    const body = JSON.stringify({ text: renderSlack(message), unfurl_links: false, unfurl_media: false });
    await post(url, { body, headers: JSON_HEADERS, signal, what: `Slack webhook of channel ${channel.name}` });
  },
};
