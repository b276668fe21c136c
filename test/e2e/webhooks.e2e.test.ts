// A signed webhook makes a real `orch serve` tick at once. The daemon's tick interval is an hour, so
// only the delivery can explain a second tick; a replay of it, and a badly signed one, cause none.

import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openOrch } from '../../src/engine/context.js';
import { CLI } from '../helpers/cli.js';
import { tempDir } from '../helpers/git.js';

const SECRET = 'e2e-webhook-secret-5c3a';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const until = async (check: () => Promise<boolean> | boolean, timeoutMs: number, what: string) => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
};

describe('orch serve with webhooks', () => {
  it('ticks at once on a signed GitHub delivery, and not on its replay or a forged one', async () => {
    const scratch = tempDir('orch-webhooks-');
    cleanups.push(scratch.cleanup);
    const home = join(scratch.path, 'home');
    mkdirSync(home);
    writeFileSync(join(home, 'config.yaml'), JSON.stringify({ scheduler: { tick_interval_s: 3600 }, webhooks: { github: { secret_env: 'ORCH_E2E_GITHUB_SECRET' } } }));

    const daemon = spawn(process.execPath, [CLI, 'serve', '--grace', '1', '--port', '0'], {
      cwd: scratch.path,
      env: { ...process.env, ORCH_HOME: home, ORCH_E2E_GITHUB_SECRET: SECRET },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let logs = '';
    daemon.stdout.on('data', (c: Buffer) => (logs += c.toString()));
    daemon.stderr.on('data', (c: Buffer) => (logs += c.toString()));
    const exited = new Promise<number | null>((resolve) => daemon.once('exit', (code) => resolve(code)));
    cleanups.push(() => {
      if (daemon.exitCode === null) daemon.kill('SIGKILL');
    });
    await until(() => existsSync(join(home, 'daemon.json')), 20_000, `the daemon to listen\n${logs}`);
    const { url } = JSON.parse(readFileSync(join(home, 'daemon.json'), 'utf8')) as { url: string };
    const auth = { authorization: `Bearer ${readFileSync(join(home, 'token'), 'utf8').trim()}` };
    const ticks = async () => {
      const metrics = await (await fetch(`${url}/metrics`, { headers: auth })).text();
      return Number(/^orch_ticks_total (\d+)$/m.exec(metrics)?.[1]);
    };
    await until(async () => (await ticks()) >= 1, 10_000, 'the first tick');
    const before = await ticks();

    const body = JSON.stringify({ action: 'labeled', issue: { number: 3 }, repository: { full_name: 'acme/app' } });
    const deliver = (signature: string) =>
      fetch(`${url}/webhooks/github`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-github-event': 'issues', 'x-github-delivery': 'c0ffee00-1111-4222-8333-444455556666', 'x-hub-signature-256': signature },
        body,
      });
    const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;

    const forged = await deliver(`sha256=${createHmac('sha256', 'guess').update(body).digest('hex')}`);
    expect(forged.status).toBe(401);
    const accepted = await deliver(signature);
    expect(accepted.status).toBe(202);
    await until(async () => (await ticks()) === before + 1, 5_000, 'the tick the webhook asked for');

    const replay = await deliver(signature);
    expect(replay.status).toBe(200);
    expect(await replay.json()).toEqual({ duplicate: true });
    await new Promise((r) => setTimeout(r, 500));
    expect(await ticks()).toBe(before + 1);

    expect(logs).toContain('github webhook refused: X-Hub-Signature-256 header: does not match the body');
    expect(logs).toContain('github webhook: issues.labeled, tick requested');
    expect(logs).not.toContain(SECRET);

    daemon.kill('SIGTERM');
    expect(await exited, logs).toBe(0);
    const after = await openOrch(home);
    cleanups.push(() => after.close());
    const received = await after.store.listEvents({ types: ['webhook.received'] });
    expect(received.map((e) => e.data)).toEqual([{ source: 'github', delivery: 'c0ffee00-1111-4222-8333-444455556666', event: 'issues', action: 'labeled', repository: 'acme/app' }]);
  });
});
