import { describe, expect, it } from 'vitest';
import { composeEmail } from '../../src/notifiers/email.js';
import { sendMail } from '../../src/notifiers/smtp.js';
import { startHangingReceiver, refusedPort } from '../rig/fake-notify/down-receivers.js';
import { startSmtpReceiver } from '../rig/fake-notify/smtp-receiver.js';

const session = (port: number, overrides: Partial<Parameters<typeof sendMail>[0]> = {}) => ({
  host: '127.0.0.1',
  port,
  tls: 'none' as const,
  auth: null,
  from: 'orch@example.com',
  to: ['a@example.com', 'b@example.com'],
  data: composeEmail({ from: 'orch@example.com', to: ['a@example.com', 'b@example.com'], subject: 'Orch: a task needs review ✓', text: '.starts with a dot\nhttp://x/#/tasks/1', now: 0 }),
  signal: AbortSignal.timeout(30_000),
  ...overrides,
});

describe('the SMTP client', () => {
  it('hands a message to every recipient, its subject and body whole', async () => {
    const smtp = await startSmtpReceiver();
    try {
      await sendMail(session(smtp.port));
      expect(smtp.received).toHaveLength(1);
      expect(smtp.received[0]).toMatchObject({ from: 'orch@example.com', to: ['a@example.com', 'b@example.com'], auth: null, subject: 'Orch: a task needs review ✓', text: '.starts with a dot\nhttp://x/#/tasks/1' });
    } finally {
      await smtp.close();
    }
  });

  it('refuses to send in the clear when STARTTLS was asked and the server does not offer it', async () => {
    const smtp = await startSmtpReceiver();
    try {
      await expect(sendMail(session(smtp.port, { tls: 'starttls' }))).rejects.toThrow(/does not offer STARTTLS/);
      expect(smtp.received).toHaveLength(0);
    } finally {
      await smtp.close();
    }
  });

  it('fails on one line when the server is down or never answers', async () => {
    await expect(sendMail(session(await refusedPort()))).rejects.toThrow(/unreachable: ECONNREFUSED/);
    const hanging = await startHangingReceiver();
    try {
      const controller = new AbortController();
      const sent = sendMail(session(Number(new URL(hanging.url).port), { signal: controller.signal }));
      while (hanging.connections === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      controller.abort();
      await expect(sent).rejects.toThrow(/no answer in time/);
    } finally {
      await hanging.close();
    }
  });
});
