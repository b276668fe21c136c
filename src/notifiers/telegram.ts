// Telegram bot API: sendMessage to one chat in HTML parse mode; the API answers `{ok: true}`.

import { renderTelegramHtml } from '../core/notification-text.js';
import { JSON_HEADERS, post } from './http-post.js';
import { NotifyError, secretFrom, type Notifier } from './notifier.js';

export const TELEGRAM_API = 'https://api.telegram.org';

export const telegramNotifier: Notifier<'telegram'> = {
  kind: 'telegram',
  async send(target, { message, channel, env, signal }) {
    const token = secretFrom(env, target.token_env, `channel ${channel.name}`);
    const base = (target.api_url ?? TELEGRAM_API).replace(/\/+$/, '');
    const body = JSON.stringify({ chat_id: target.chat_id, text: renderTelegramHtml(message), parse_mode: 'HTML', link_preview_options: { is_disabled: true } });
    const answer = await post(`${base}/bot${encodeURIComponent(token)}/sendMessage`, { body, headers: JSON_HEADERS, signal, what: `Telegram bot API of channel ${channel.name}` });
    let ok = false;
    try {
      ok = (JSON.parse(answer) as { ok?: unknown }).ok === true;
    } catch {
      // not JSON: refused below
    }
    if (!ok) throw new NotifyError(`Telegram bot API of channel ${channel.name} did not accept the message: ${answer.slice(0, 200)}`);
  },
};
