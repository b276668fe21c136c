import { readFileSync } from 'node:fs';
import { readApiToken } from '../config/token.js';
import { OrchError } from '../core/errors.js';
import { daemonFile, type DaemonInfo } from '../engine/daemon-file.js';

/** The running daemon of this ORCH_HOME, if its process is alive. */
export function runningDaemon(home: string): DaemonInfo | null {
  try {
    const info = JSON.parse(readFileSync(daemonFile(home), 'utf8')) as DaemonInfo;
    process.kill(info.pid, 0);
    return info;
  } catch {
    return null;
  }
}

/**
 * After the CLI changes tasks, a running daemon is asked to tick at once instead of at its next
 * interval. Best effort: a daemon that does not answer quickly just ticks on its own schedule.
 */
export async function nudgeDaemon(home: string): Promise<boolean> {
  const daemon = runningDaemon(home);
  const token = daemon ? readApiToken(home) : null;
  if (!daemon || !token) return false;
  try {
    const response = await fetch(`${daemon.url}/tick`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(1000) });
    return response.ok;
  } catch {
    return false;
  }
}

export interface LoginLink {
  url: string;
  expiresAt: number;
}

/**
 * A fresh one-time dashboard login link from the running daemon, asked for over the API token (which
 * stays out of the link: the daemon trades the code for a session cookie once).
 */
export async function freshLoginLink(home: string): Promise<LoginLink> {
  const daemon = runningDaemon(home);
  if (!daemon) throw new OrchError('not_found', `no daemon runs for ${home}: start one with \`orch serve\``);
  const token = readApiToken(home);
  if (!token) throw new OrchError('config', `${home} has no API token: restart \`orch serve\`, which makes one`);
  let response: Response;
  try {
    response = await fetch(`${daemon.url}/login-codes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
      signal: AbortSignal.timeout(5000),
    });
  } catch (error) {
    throw new Error(`the daemon at ${daemon.url} did not answer: ${(error as Error).message}`);
  }
  const body = (await response.json().catch(() => null)) as { path?: string; expiresAt?: number; error?: { message: string } } | null;
  if (!response.ok || typeof body?.path !== 'string' || typeof body.expiresAt !== 'number') {
    throw new Error(`the daemon at ${daemon.url} refused a login link: ${body?.error?.message ?? `HTTP ${response.status}`}`);
  }
  return { url: `${daemon.url}${body.path}`, expiresAt: body.expiresAt };
}
