import { readFileSync, readdirSync } from 'node:fs';

/**
 * An agent runs in its own process group (spawned detached), so stopping it means signalling the whole
 * group: the CLI and every tool process it started (shells, test runners, dev servers).
 */

/** Sends a signal to every process of the group; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/**
 * Whether any process of the group is still running. A killed process whose parent has not reaped it
 * yet (a zombie: it runs nothing and holds nothing but its pid) does not count; where /proc can tell,
 * zombies are left out, elsewhere a signal 0 probe answers.
 */
export function groupAlive(pgid: number): boolean {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return signalGroup(pgid, 0);
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // The command name (field 2) may hold spaces and parentheses: parse after its closing ")".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    const group = Number(fields[2]);
    if (group === pgid && state !== 'Z' && state !== 'X') return true;
  }
  return false;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * SIGTERM to the group, then SIGKILL to whatever is left after `graceMs`. Resolves once no process of
 * the group is running any more.
 */
export async function terminateGroup(pgid: number, graceMs: number): Promise<void> {
  if (!signalGroup(pgid, 'SIGTERM')) return;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await sleep(50);
    if (!groupAlive(pgid)) return;
  }
  signalGroup(pgid, 'SIGKILL');
  for (let i = 0; i < 40 && groupAlive(pgid); i++) await sleep(25);
}
