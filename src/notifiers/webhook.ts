// A generic webhook: the message as JSON, signed like GitHub's webhooks — HMAC-SHA256 of the raw body
// with the shared secret, hex, in `X-Orch-Signature-256: sha256=<hex>` — so the receiver can tell
// Orch's posts from anyone else's.

import { createHmac } from 'node:crypto';
import { renderPlain } from '../core/notification-text.js';
import { JSON_HEADERS, post } from './http-post.js';
import { secretFrom, type Notifier } from './notifier.js';

export const SIGNATURE_HEADER = 'X-Orch-Signature-256';

export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export const webhookNotifier: Notifier<'webhook'> = {
  kind: 'webhook',
  async send(target, { message, channel, env, signal, now }) {
    const secret = secretFrom(env, target.secret_env, `channel ${channel.name}`);
    const body = JSON.stringify({
      channel: channel.name,
      kinds: message.kinds,
      title: message.title,
      text: renderPlain(message),
      url: message.url,
      lines: message.lines,
      taskIds: message.taskIds,
      sentAt: new Date(now).toISOString(),
    });
    await post(target.url, { body, headers: { ...JSON_HEADERS, [SIGNATURE_HEADER]: signBody(secret, body), 'X-Orch-Event': 'notification' }, signal, what: `webhook of channel ${channel.name}` });
  },
};
