import { readFileSync, readdirSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';

/**
 * An agent runs in its own process group (spawned detached), so stopping it means signalling the whole
 * group: the CLI and every tool process it started (shells, test runners, dev servers). A process that
 * left the group (`setsid`, a daemonising dev server) is still found by the mark every process of the
 * run inherits in its environment (RUN_MARK_VARIABLE).
 */

/** The environment variable carrying a run's mark: its agent log's path, unique to the run. */
export const RUN_MARK_VARIABLE = 'ORCH_RUN_MARK';

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

/** Processes of this user whose environment carries the run's mark (where /proc can tell; else none). */
export function markedProcesses(mark: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const carries = carriesMark(mark);
  const found: number[] = [];
  for (const pid of otherPids(entries)) {
    try {
      if (carries(readFileSync(`/proc/${pid}/environ`))) found.push(pid);
    } catch {
      // exited, or another user's
    }
  }
  return found.filter((pid) => !isZombie(pid));
}

/**
 * markedProcesses without stopping the event loop: every run's end looks through /proc, and read
 * synchronously that held up every other run's output for milliseconds each time.
 */
export async function findMarkedProcesses(mark: string): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [];
  }
  const carries = carriesMark(mark);
  const marked = await Promise.all(
    otherPids(entries).map(async (pid) => {
      try {
        return carries(await readFile(`/proc/${pid}/environ`)) ? pid : null;
      } catch {
        return null; // exited, or another user's
      }
    }),
  );
  return marked.filter((pid): pid is number => pid !== null && !isZombie(pid));
}

function otherPids(entries: readonly string[]): number[] {
  return entries.filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid).map(Number);
}

/** Whether an environment (NUL-separated, as /proc gives it) sets the run's mark. */
function carriesMark(mark: string): (environ: Buffer) => boolean {
  const wanted = Buffer.from(`${RUN_MARK_VARIABLE}=${mark}\0`);
  const anywhere = Buffer.concat([Buffer.from([0]), wanted]);
  // Each variable ends with NUL; the first one has none before it.
  return (environ) => environ.subarray(0, wanted.length).equals(wanted) || environ.includes(anywhere);
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state === 'Z' || state === 'X';
  } catch {
    return true;
  }
}

function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Ends every process carrying the run's mark, wherever it went (another group, another session):
 * SIGTERM, then SIGKILL after `graceMs`. Resolves once none is left running.
 */
export async function terminateMarked(mark: string, graceMs: number): Promise<void> {
  let left = await findMarkedProcesses(mark);
  if (left.length === 0) return;
  for (const pid of left) signalProcess(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await sleep(50);
    left = await findMarkedProcesses(mark);
    if (left.length === 0) return;
  }
  // A process may have started another meanwhile: kill until none is found.
  for (let round = 0; round < 40 && left.length > 0; round++) {
    for (const pid of left) signalProcess(pid, 'SIGKILL');
    await sleep(25);
    left = await findMarkedProcesses(mark);
  }
}
