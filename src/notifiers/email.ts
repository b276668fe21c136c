// Email over SMTP: a plain-text message (base64 UTF-8, so any title travels whole and no line of it
// can end the DATA), its subject the message's title.

import { randomUUID } from 'node:crypto';
import { renderPlain } from '../core/notification-text.js';
import { secretFrom, type Notifier } from './notifier.js';
import { sendMail } from './smtp.js';

/** RFC 2047: a header value outside ASCII as an encoded word; CR and LF never reach a header. */
export function headerText(text: string): string {
  const flat = text.replace(/[\r\n]+/g, ' ');
  return /^[\x20-\x7e]*$/.test(flat) ? flat : `=?UTF-8?B?${Buffer.from(flat).toString('base64')}?=`;
}

export function composeEmail(options: { from: string; to: readonly string[]; subject: string; text: string; now: number }): string {
  const body = Buffer.from(options.text).toString('base64').replace(/.{76}/g, '$&\r\n');
  const domain = options.from.split('@')[1] ?? 'orch.invalid';
  return [
    `From: ${options.from}`,
    `To: ${options.to.join(', ')}`,
    `Subject: ${headerText(options.subject)}`,
    `Date: ${new Date(options.now).toUTCString()}`,
    `Message-ID: <${randomUUID()}@${domain}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    body,
  ].join('\r\n');
}

export const emailNotifier: Notifier<'email'> = {
  kind: 'email',
  async send(target, { message, channel, env, signal, now }) {
    const tls = target.tls ?? 'starttls';
    const auth = target.username ? { username: target.username, password: secretFrom(env, target.password_env!, `channel ${channel.name}`) } : null;
    const data = composeEmail({ from: target.from, to: target.to, subject: message.title, text: renderPlain(message), now });
    await sendMail({ host: target.host, port: target.port ?? (tls === 'implicit' ? 465 : 587), tls, auth, from: target.from, to: target.to, data, signal });
  },
};
