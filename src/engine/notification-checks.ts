// `orch doctor` on notifications: for each channel, whether its last send got through (from the
// store's records, so a failing channel of a running daemon shows), and whether the variables its
// secrets come from are set here.

import type { NotificationChannelFile } from '../config/notification-schema.js';
import type { Orch } from './context.js';
import type { Check } from './doctor.js';
import { readChannelRecords } from './notification-records.js';

/** The environment variables a channel reads its secrets from. */
export function secretVariables(target: NotificationChannelFile): string[] {
  switch (target.kind) {
    case 'slack':
    case 'discord':
      return target.url_env ? [target.url_env] : [];
    case 'telegram':
      return [target.token_env];
    case 'ntfy':
      return target.token_env ? [target.token_env] : [];
    case 'email':
      return target.password_env ? [target.password_env] : [];
    case 'webhook':
      return [target.secret_env];
  }
}

export async function notificationChecks(orch: Orch, env: NodeJS.ProcessEnv): Promise<Check[]> {
  const channels = orch.config.notifications;
  if (channels.length === 0) return [];
  const records = await readChannelRecords(orch.store, channels.map((channel) => channel.name));
  return channels.map((channel): Check => {
    const name = `notify ${channel.name}`;
    const record = records.get(channel.name);
    const failure = record?.lastFailure;
    if (failure) {
      return {
        name,
        status: 'warn',
        detail: `last send failed (${failure.failures} in a row, at ${new Date(failure.at).toISOString()}): ${failure.error}`,
        fix: `check the ${channel.kind} address and secret of channel ${channel.name} (the daemon retries with backoff)`,
      };
    }
    const missing = secretVariables(channel.target).filter((variable) => !env[variable]);
    if (missing.length > 0) {
      return { name, status: 'warn', detail: `${missing.join(', ')} not set in this environment`, fix: `set ${missing.join(', ')} in the environment \`orch serve\` runs in` };
    }
    const sent = record?.lastSentAt ? `last message ${new Date(record.lastSentAt).toISOString()}` : 'nothing sent yet';
    return { name, status: 'ok', detail: `${channel.kind}, ${sent}`, fix: '' };
  });
}
