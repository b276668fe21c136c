import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { configPath, loadConfig } from '../../src/config/load.js';
import { tempDir, thrownBy, writeFile } from './helpers.js';

function load(configYaml: string) {
  const home = tempDir();
  writeFile(configPath(home), configYaml);
  return loadConfig(home);
}

function loadError(configYaml: string): string {
  const error = thrownBy(() => load(configYaml));
  expect(error).toBeInstanceOf(ConfigError);
  expect(error.message).not.toContain('\n');
  return error.message.replace(/^[^:]*config\.yaml: /, '');
}

describe('notifications in config.yaml', () => {
  it('are none by default', () => {
    expect(load('{}').notifications).toEqual([]);
  });

  it('resolve each channel with its defaults: named by its kind, every project, all but the digest, links to the server', () => {
    const config = load(
      [
        'server: {port: 9000}',
        'notifications:',
        '  - {kind: slack, url_env: SLACK_WEBHOOK_URL}',
        '  - {kind: webhook, name: audit, url: "https://hooks.example/orch", secret_env: HOOK_SECRET, events: [needs_review, daily_digest], projects: [api], quiet_s: 0, dashboard_url: "https://orch.example/", digest_hour_utc: 6}',
        '  - {kind: email, host: smtp.example, from: orch@example.com, to: [ops@example.com], username: orch, password_env: SMTP_PASSWORD}',
        '  - {kind: telegram, token_env: TG_TOKEN, chat_id: "@ops"}',
        '  - {kind: ntfy, topic: orch-alerts}',
        '  - {kind: discord, url: "https://discord.example/api/webhooks/1/x"}',
      ].join('\n'),
    );
    expect(config.notifications.map((channel) => channel.name)).toEqual(['slack', 'audit', 'email', 'telegram', 'ntfy', 'discord']);
    expect(config.notifications[0]).toMatchObject({
      kind: 'slack',
      projects: null,
      events: ['approval_waiting', 'question', 'needs_review', 'project_paused', 'budget_reached'],
      quietS: 30,
      dashboardUrl: 'http://127.0.0.1:9000',
      digestHourUtc: 8,
      target: { kind: 'slack', url_env: 'SLACK_WEBHOOK_URL' },
    });
    expect(config.notifications[1]).toMatchObject({ projects: ['api'], events: ['needs_review', 'daily_digest'], quietS: 0, dashboardUrl: 'https://orch.example', digestHourUtc: 6 });
  });

  it('refuse what is malformed in one line saying what to fix', () => {
    expect(loadError('notifications:\n  - {kind: slack}\n')).toBe('notifications[0]: needs one of url (the webhook URL) or url_env (the variable holding it)');
    expect(loadError('notifications:\n  - {kind: slack, url: "https://a.example", url_env: X}\n')).toMatch(/needs one of url/);
    expect(loadError('notifications:\n  - {kind: pager}\n')).toMatch(/^notifications\[0\]\.kind: expected one of .*slack.*webhook/);
    expect(loadError('notifications:\n  - {kind: ntfy, topic: a, events: [everything]}\n')).toMatch(/^notifications\[0\]\.events\[0\]: expected /);
    expect(loadError('notifications:\n  - {kind: webhook, url: "ftp://x.example", secret_env: S}\n')).toMatch(/^notifications\[0\]\.url: expected an http\(s\) URL/);
    expect(loadError('notifications:\n  - {kind: webhook, url: "https://x.example"}\n')).toMatch(/^notifications\[0\]\.secret_env: missing/);
    expect(loadError('notifications:\n  - {kind: telegram, token_env: T, chat_id: "general"}\n')).toMatch(/^notifications\[0\]\.chat_id: expected a chat id/);
    expect(loadError('notifications:\n  - {kind: email, host: h, from: a@example.com, to: [b@example.com], username: u}\n')).toMatch(/username and password_env go together/);
    expect(loadError('notifications:\n  - {kind: ntfy, topic: a}\n  - {kind: ntfy, topic: b}\n')).toBe('notifications[1].name: another channel is named ntfy already: give each channel its own name');
    expect(loadError('notifications:\n  - {kind: ntfy, topic: a, quiet: 5}\n')).toMatch(/^notifications\[0\]\.quiet: unknown key \(did you mean "quiet_s"\?\)/);
  });
});
