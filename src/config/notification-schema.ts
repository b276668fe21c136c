// The `notifications:` list of config.yaml: where Orch tells people that something needs them. Each
// channel names its kind (one of the notifiers in src/notifiers/registry.ts), what it hears about
// and how to reach it. Secrets (tokens, passwords, signing keys, webhook URLs that are keys in
// themselves) are named by the environment variable that holds them, as GitHub's token is.

import { z } from 'zod';
import { NOTIFICATION_KINDS } from '../core/notifications.js';
import { expecting } from '../core/schema-messages.js';
import { nameSchema } from '../core/value-schemas.js';
import { channelName } from './notification-settings.js';

const optional = <T extends z.ZodType>(schema: T, description: string) => schema.optional().describe(description);
const nonEmptyString = () => expecting(z.string().min(1), 'a non-empty string');
const envName = () => expecting(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), 'an environment variable name');
const httpUrl = () => expecting(z.url({ protocol: /^https?$/ }), 'an http(s) URL');

const CHAT_ID = 'a chat id (a number) or @channelname';

/** What every channel has, whatever its kind. */
const channelShape = {
  name: optional(nameSchema, "The channel's name in logs, `orch doctor` and its stored cursor. Default: its kind; two channels of one kind need names."),
  projects: optional(
    expecting(z.array(nameSchema).min(1), 'a non-empty list of project names'),
    'Only notices of these projects. Default: every project.',
  ),
  events: optional(
    expecting(z.array(z.enum(NOTIFICATION_KINDS)).min(1), `a non-empty list of ${NOTIFICATION_KINDS.join(', ')}`),
    'Which kinds of notice this channel gets. Default: all but daily_digest.',
  ),
  quiet_s: optional(
    expecting(z.number().min(0), 'a number >= 0'),
    'Notices gather this many seconds after the first of a burst, and the channel says nothing more often: a burst is one message. Default 30.',
  ),
  dashboard_url: optional(httpUrl(), "Base address of the dashboard for links, as people reach it. Default: the server's own address (http://HOST:PORT)."),
  digest_hour_utc: optional(
    expecting(z.int().min(0).max(23), 'an hour between 0 and 23'),
    'Hour (UTC) the daily digest goes out, when daily_digest is among the events. Default 8.',
  ),
};

/** A webhook URL written out, or the variable holding it (it is a key in itself). */
const webhookUrlShape = {
  url: optional(httpUrl(), 'The incoming webhook URL. It is a secret: prefer url_env.'),
  url_env: optional(envName(), 'Environment variable of the daemon holding the webhook URL.'),
};
const oneUrl = (entry: { url?: string; url_env?: string }) => (entry.url === undefined) !== (entry.url_env === undefined);
const oneUrlMessage = { message: 'needs one of url (the webhook URL) or url_env (the variable holding it)' };

export const notificationChannelSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('slack').describe('A Slack incoming webhook.'), ...channelShape, ...webhookUrlShape }).refine(oneUrl, oneUrlMessage),
    z.strictObject({ kind: z.literal('discord').describe('A Discord channel webhook.'), ...channelShape, ...webhookUrlShape }).refine(oneUrl, oneUrlMessage),
    z.strictObject({
      kind: z.literal('telegram').describe('A Telegram chat, through a bot.'),
      ...channelShape,
      token_env: envName().describe('Environment variable holding the bot token.'),
      chat_id: expecting(z.union([z.int(), expecting(z.string().regex(/^(-?\d+|@\w+)$/), CHAT_ID)]), CHAT_ID).describe('The chat the bot writes to.'),
      api_url: optional(httpUrl(), 'Bot API address. Default https://api.telegram.org.'),
    }),
    z.strictObject({
      kind: z.literal('ntfy').describe('An ntfy topic.'),
      ...channelShape,
      server: optional(httpUrl(), 'The ntfy server. Default https://ntfy.sh.'),
      topic: expecting(z.string().regex(/^[\w-]{1,64}$/), 'a topic name (letters, digits, _ or -)').describe('The topic to publish to.'),
      token_env: optional(envName(), 'Environment variable holding an access token, for a protected topic.'),
    }),
    z.strictObject({
      kind: z.literal('email').describe('Email over SMTP.'),
      ...channelShape,
      host: nonEmptyString().describe('SMTP server host.'),
      port: optional(expecting(z.int().min(1).max(65535), 'a port number between 1 and 65535'), 'SMTP port. Default 587 (465 with tls: implicit).'),
      tls: optional(
        z.enum(['starttls', 'implicit', 'none']),
        'starttls: upgrade after EHLO (refused if the server cannot); implicit: TLS from the first byte (port 465); none: plain, for a relay on this machine. Default starttls.',
      ),
      from: expecting(z.email(), 'an email address').describe('Sender address.'),
      to: expecting(z.array(z.email()).min(1), 'a non-empty list of email addresses').describe('Recipients.'),
      username: optional(nonEmptyString(), 'Login for AUTH PLAIN. Default: no authentication.'),
      password_env: optional(envName(), 'Environment variable holding the password, with username.'),
    }).refine((entry) => (entry.username === undefined) === (entry.password_env === undefined), { message: 'username and password_env go together: give both, or neither' }),
    z.strictObject({
      kind: z.literal('webhook').describe('Any HTTP endpoint: JSON signed with HMAC-SHA256 in X-Orch-Signature-256.'),
      ...channelShape,
      url: httpUrl().describe('Where the JSON is posted.'),
      secret_env: envName().describe('Environment variable holding the signing secret.'),
    }),
  ])
  .describe('A channel Orch sends notifications to.');
export type NotificationChannelFile = z.infer<typeof notificationChannelSchema>;

/** A channel's name: its own, else its kind. */

export const notificationsSchema = z
  .array(notificationChannelSchema)
  .superRefine((channels, context) => {
    const seen = new Set<string>();
    channels.forEach((channel, index) => {
      const name = channelName(channel);
      if (seen.has(name)) context.addIssue({ code: 'custom', path: [index, 'name'], message: `another channel is named ${name} already: give each channel its own name` });
      seen.add(name);
    });
  })
  .describe('Where people are told that something needs them (docs/NOTIFICATIONS.md). Default: nowhere.');
