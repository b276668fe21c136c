import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';

// What both service modes need to know about a daemon process: its own record (daemon.json), whether a
// pid still names a live `orch serve`, and whether it answers.

/** What a running `orch serve` writes to daemon.json. */
export interface DaemonRecord {
  pid: number;
  url: string;
  startedAt: number;
}

const isPid = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value > 0;

/** The daemon's record, or null when there is none or it cannot be read as one. */
export function readDaemonRecord(path: string): DaemonRecord | null {
  try {
    const data = JSON.parse(readFileSync(path, 'utf8')) as Partial<DaemonRecord>;
    if (!isPid(data.pid) || typeof data.url !== 'string') return null;
    return { pid: data.pid, url: data.url, startedAt: typeof data.startedAt === 'number' ? data.startedAt : 0 };
  } catch {
    return null;
  }
}

/** The pid in a pid file, or null when there is none or it holds something else. */
export function readPidFile(path: string): number | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
  const pid = /^\d+$/.test(text) ? Number(text) : NaN;
  return isPid(pid) ? pid : null;
}

/**
 * Whether a process runs under this pid. A zombie (exited, not yet reaped by a parent that may never
 * reap it) runs nothing and does not count; where /proc cannot tell, a signal 0 probe answers.
 */
export function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: the state follows its closing ")".
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return existsSync(`/proc/${pid}`) || !existsSync('/proc/self');
  }
}

export type DaemonIdentity = 'orch-serve' | 'other-process' | 'gone';

/**
 * Whether a recorded pid still belongs to `orch serve`: after a crash or a reboot the pid may have been
 * reused by an unrelated process, which must never be signalled.
 */
export function identifyDaemonProcess(pid: number): DaemonIdentity {
  if (!processRunning(pid)) return 'gone';
  let argv: string[];
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && existsSync('/proc/self')) return 'gone';
    // No /proc on this system, or not ours to read: the record's word has to do.
    return 'orch-serve';
  }
  return argv.includes('serve') ? 'orch-serve' : 'other-process';
}

/** Whether the daemon at `url` answers its public liveness route. */
export async function answersHealth(url: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/** The last `count` lines of a log, read from its end so a large log costs no more than a small one. */
export function lastLines(path: string, count: number, maxBytes = 64 * 1024): string[] {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return [];
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').split('\n');
    if (length < size) lines.shift(); // the first line was cut
    while (lines.length > 0 && lines.at(-1)!.trim() === '') lines.pop();
    return lines.slice(-count);
  } finally {
    closeSync(fd);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
