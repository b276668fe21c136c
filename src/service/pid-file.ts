import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { writeFileAtomic } from '../config/atomic-write.js';
import { OrchError } from '../core/errors.js';
import { answersHealth, identifyDaemonProcess, lastLines, processRunning, readDaemonRecord, readPidFile, sleep, type DaemonRecord } from './daemon-process.js';
import { readTextOrNull } from './files.js';
import { START_TIMEOUT_MS, type InstallOptions, type InstallResult, type ServiceManager, type ServiceSetup, type ServiceStatus, type StartResult, type StopResult } from './service.js';

// Where no service manager runs, Orch keeps the daemon itself: a detached `orch serve` in its own
// process group with its output appended to a log, and its pid in a file so later commands find it.

export const pidFilePath = (home: string) => join(home, 'daemon.pid');
export const daemonLogPath = (home: string) => join(home, 'logs', 'daemon.log');
/** What `install` records in this mode: that it was chosen, and the port to serve on. */
export const serviceRecordPath = (home: string) => join(home, 'service.json');

interface PidFileRecord {
  mode: 'pid-file';
  port?: number;
}

/** A live daemon of this ORCH_HOME, and its record once it has written one. */
interface FoundDaemon {
  pid: number;
  record: DaemonRecord | null;
}

/** After SIGTERM, how much longer than the serve grace period a daemon may take before SIGKILL. */
const STOP_MARGIN_SECONDS = 5;

export class PidFileService implements ServiceManager {
  readonly mode = 'pid-file' as const;
  private readonly pidFile: string;
  private readonly logFile: string;
  private readonly recordFile: string;

  constructor(private readonly setup: ServiceSetup) {
    this.pidFile = pidFilePath(setup.home);
    this.logFile = daemonLogPath(setup.home);
    this.recordFile = serviceRecordPath(setup.home);
  }

  async install(options: InstallOptions): Promise<InstallResult> {
    const record: PidFileRecord = { mode: 'pid-file', ...(options.port === undefined ? {} : { port: options.port }) };
    const text = `${JSON.stringify(record, null, 2)}\n`;
    const changed = readTextOrNull(this.recordFile) !== text;
    if (changed) writeFileAtomic(this.recordFile, text);
    return {
      mode: this.mode,
      path: this.recordFile,
      changed,
      notes: ['no systemd user manager here, so there is nothing to install: `orch service start` runs the daemon in the background with a pid file (it does not come back by itself after a reboot)'],
    };
  }

  async start(): Promise<StartResult> {
    const notes: string[] = [];
    const running = this.locate(notes, true);
    if (running) return { mode: this.mode, alreadyRunning: true, pid: running.pid, url: running.record?.url ?? null, notes };

    const { home, orchCommand, env } = this.setup;
    const port = this.recordedPort();
    const [program, ...args] = orchCommand;
    mkdirSync(dirname(this.logFile), { recursive: true, mode: 0o700 });
    const log = openSync(this.logFile, 'a', 0o600);
    let child;
    try {
      // Its own process group, so a terminal's Ctrl-C or hang-up never reaches it; cwd ORCH_HOME, so it
      // holds no directory the user might want to remove or unmount.
      child = spawn(program, [...args, 'serve', ...(port === undefined ? [] : ['--port', String(port)])], {
        detached: true,
        stdio: ['ignore', log, log],
        cwd: home,
        env: { ...env, ORCH_HOME: home },
      });
    } finally {
      closeSync(log);
    }
    const ended: { how: string | null } = { how: null };
    child.once('exit', (code, signal) => (ended.how = signal ? `killed by ${signal}` : `exit code ${code}`));
    try {
      await once(child, 'spawn');
    } catch (error) {
      throw new OrchError('conflict', `could not start orch serve: ${(error as Error).message}`);
    }
    const pid = child.pid!;
    writeFileAtomic(this.pidFile, `${pid}\n`);
    child.unref();

    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (ended.how !== null) {
        rmSync(this.pidFile, { force: true });
        const lastWords = lastLines(this.logFile, 1)[0]?.trim().slice(0, 200);
        throw new OrchError('conflict', `orch serve stopped (${ended.how}) before it answered${lastWords ? ` (${lastWords})` : ''}: see ${this.logFile}`);
      }
      const record = readDaemonRecord(this.setup.daemonFile);
      if (record?.pid === pid && (await answersHealth(record.url))) return { mode: this.mode, alreadyRunning: false, pid, url: record.url, notes };
      await sleep(100);
    }
    throw new OrchError('conflict', `orch serve (pid ${pid}) did not answer within ${START_TIMEOUT_MS / 1000}s: see ${this.logFile}; \`orch service stop\` stops it`);
  }

  async stop(): Promise<StopResult> {
    const notes: string[] = [];
    const running = this.locate(notes, true);
    if (!running) return { mode: this.mode, wasRunning: false, pid: null, killed: false, notes };
    const { pid } = running;
    const graceSeconds = this.setup.graceSeconds + STOP_MARGIN_SECONDS;
    signal(pid, 'SIGTERM');
    let killed = false;
    if (!(await exitWithin(pid, graceSeconds * 1000))) {
      signal(pid, 'SIGKILL');
      await exitWithin(pid, 5000);
      killed = true;
      notes.push(`orch serve did not stop within ${graceSeconds}s and was killed; the next start recovers its tasks`);
    }
    if (readPidFile(this.pidFile) === pid) rmSync(this.pidFile, { force: true });
    // A killed daemon had no chance to remove its own record.
    if (readDaemonRecord(this.setup.daemonFile)?.pid === pid) rmSync(this.setup.daemonFile, { force: true });
    return { mode: this.mode, wasRunning: true, pid, killed, notes };
  }

  async status(): Promise<ServiceStatus> {
    const notes: string[] = [];
    const running = this.locate(notes, false);
    const startedAt = running?.record?.startedAt || null;
    return {
      mode: this.mode,
      installed: existsSync(this.recordFile),
      path: this.recordFile,
      running: running !== null,
      pid: running?.pid ?? null,
      url: running?.record?.url ?? null,
      startedAt,
      uptimeMs: startedAt === null ? null : Math.max(0, this.setup.now() - startedAt),
      log: this.logFile,
      logTail: running ? [] : lastLines(this.logFile, 10),
      notes,
    };
  }

  /**
   * The live daemon of this ORCH_HOME: the one this mode started (daemon.pid), else one started some
   * other way (`orch serve` in a terminal) that daemon.json names. A file naming a process that is
   * gone, or that is no longer `orch serve`, is stale: removed when `clean`, else reported.
   */
  private locate(notes: string[], clean: boolean): FoundDaemon | null {
    const record = readDaemonRecord(this.setup.daemonFile);
    const fromPidFile = readPidFile(this.pidFile);
    if (fromPidFile !== null) {
      const identity = identifyDaemonProcess(fromPidFile);
      if (identity === 'orch-serve') return { pid: fromPidFile, record: record?.pid === fromPidFile ? record : null };
      this.stale(this.pidFile, `pid ${fromPidFile} ${identity === 'gone' ? 'is gone' : 'is not orch serve'}`, clean, notes);
    } else if (existsSync(this.pidFile)) {
      this.stale(this.pidFile, 'it holds no pid', clean, notes);
    }
    if (record) {
      const identity = identifyDaemonProcess(record.pid);
      if (identity === 'orch-serve') return { pid: record.pid, record };
      this.stale(this.setup.daemonFile, `pid ${record.pid} ${identity === 'gone' ? 'is gone' : 'is not orch serve'}`, clean, notes);
    }
    return null;
  }

  private stale(path: string, why: string, clean: boolean, notes: string[]): void {
    if (clean) {
      rmSync(path, { force: true });
      notes.push(`removed a stale ${basename(path)}: ${why}`);
    } else {
      notes.push(`${basename(path)} is stale: ${why} (start or stop removes it)`);
    }
  }

  private recordedPort(): number | undefined {
    const text = readTextOrNull(this.recordFile);
    if (text === null) return undefined;
    let record: Partial<PidFileRecord>;
    try {
      record = JSON.parse(text) as Partial<PidFileRecord>;
    } catch {
      throw new OrchError('config', `${this.recordFile} is not valid JSON: run \`orch service install\` again`);
    }
    return typeof record.port === 'number' ? record.port : undefined;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

async function exitWithin(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (processRunning(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
  return true;
}
