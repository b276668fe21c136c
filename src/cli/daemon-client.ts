import { readFileSync } from 'node:fs';
import { readApiToken } from '../config/token.js';
import { daemonFile, type DaemonInfo } from '../engine/daemon.js';

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
