// ntfy: a JSON publish to the server's root (title, message and click link travel as UTF-8, which
// ntfy's plain headers would not carry).

import { renderPlain } from '../core/notification-text.js';
import { JSON_HEADERS, post } from './http-post.js';
import { secretFrom, type Notifier } from './notifier.js';

export const NTFY_SERVER = 'https://ntfy.sh';

export const ntfyNotifier: Notifier<'ntfy'> = {
  kind: 'ntfy',
  async send(target, { message, channel, env, signal }) {
    const server = (target.server ?? NTFY_SERVER).replace(/\/+$/, '');
    const headers: Record<string, string> = { ...JSON_HEADERS };
    if (target.token_env) headers.authorization = `Bearer ${secretFrom(env, target.token_env, `channel ${channel.name}`)}`;
    const urgent = message.kinds.some((kind) => kind === 'approval_waiting' || kind === 'question');
    const body = JSON.stringify({ topic: target.topic, title: message.title, message: renderPlain(message), click: message.url, priority: urgent ? 4 : 3, tags: message.kinds });
    await post(`${server}/`, { body, headers, signal, what: `ntfy server of channel ${channel.name}` });
  },
};
