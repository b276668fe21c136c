// One HTTP POST for the notifiers that speak HTTP, with the failure told on one line: the status and
// the start of what the receiver said, or why it could not be reached. The URL is never in the
// message: a webhook URL is a secret.

import { NotifyError } from './notifier.js';

export interface PostOptions {
  body: string;
  headers: Record<string, string>;
  signal: AbortSignal;
  /** How the receiver is named in errors ("Slack webhook"). */
  what: string;
}

/** Posts and resolves with the response text when the status is 2xx. */
export async function post(url: string, options: PostOptions): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', body: options.body, headers: options.headers, signal: options.signal, redirect: 'error' });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const why = options.signal.aborted ? 'no answer in time' : (cause?.code ?? cause?.message ?? (error as Error).message);
    throw new NotifyError(`${options.what} unreachable: ${why}`);
  }
  const text = await response.text().catch(() => '');
  if (!response.ok) throw new NotifyError(`${options.what} answered ${response.status}${text ? `: ${text.replace(/\s+/g, ' ').slice(0, 200)}` : ''}`);
  return text;
}

export const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'orch-notifier' };
