import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../config/atomic-write.js';
import { OrchError } from '../core/errors.js';
import { answersHealth, identifyDaemonProcess, readDaemonRecord, sleep, type DaemonRecord } from './daemon-process.js';
import { readTextOrNull } from './files.js';
import { START_TIMEOUT_MS, type InstallOptions, type InstallResult, type ServiceManager, type ServiceSetup, type ServiceStatus, type StartResult, type StopResult } from './service.js';
import { renderServiceCommand, renderUnit, UNIT_NAME, unitPath } from './systemd-unit.js';

// Where a systemd user manager runs, it keeps the daemon: a user unit restarts it after a failure,
// starts it with the user's manager (at boot too, with lingering) and stops it with SIGTERM and a
// timeout longer than the serve grace period.

export interface SystemctlResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

/** `systemctl --user <args>`; argv only, no shell. */
export type Systemctl = (args: string[]) => Promise<SystemctlResult>;

export function systemctlRunner(timeoutMs: number): Systemctl {
  return (args) =>
    new Promise((resolve) => {
      execFile('systemctl', ['--user', ...args], { encoding: 'utf8', timeout: timeoutMs }, (error, stdout, stderr) => {
        resolve({ ok: error === null, stdout, stderr: stderr || (error ? error.message : '') });
      });
    });
}

export interface SystemdServiceOptions {
  systemctl?: Systemctl;
  userHome?: string;
  /** Where logind records the users whose manager runs without a login session. */
  lingerDir?: string;
}

/** What `systemctl show` says about the unit. */
interface UnitState {
  activeState: string;
  mainPid: number | null;
  /** `timeout` when the last stop needed SIGKILL. */
  result: string;
}

const JOURNAL_HINT = `journalctl --user -u ${UNIT_NAME}`;

export class SystemdService implements ServiceManager {
  readonly mode = 'systemd' as const;
  readonly unitFile: string;
  private readonly systemctl: Systemctl;
  private readonly lingerDir: string;

  constructor(
    private readonly setup: ServiceSetup,
    options: SystemdServiceOptions = {},
  ) {
    this.unitFile = unitPath(setup.env, options.userHome ?? homedir());
    // `stop` waits for systemd's own stop timeout, which is longer than the grace period.
    this.systemctl = options.systemctl ?? systemctlRunner((setup.graceSeconds + 60) * 1000);
    this.lingerDir = options.lingerDir ?? '/var/lib/systemd/linger';
  }

  async install(options: InstallOptions): Promise<InstallResult> {
    const unit = renderUnit({ ...this.unitSpec(), port: options.port });
    const current = readTextOrNull(this.unitFile);
    if (current !== null && current !== unit && !options.force) {
      throw new OrchError('conflict', `${this.unitFile} exists and differs from the unit this install would write: add --force to replace it`);
    }
    const changed = current !== unit;
    if (changed) {
      mkdirSync(dirname(this.unitFile), { recursive: true });
      writeFileAtomic(this.unitFile, unit);
    }
    await this.run(['daemon-reload']);
    await this.run(['enable', UNIT_NAME]);
    const notes: string[] = [];
    if (changed && current !== null && (await this.state()).activeState === 'active') {
      notes.push('the running daemon keeps its old settings until `orch service stop` and `orch service start`');
    }
    if (!this.lingering()) notes.push('it runs while you are logged in; `loginctl enable-linger` keeps it running after you log out and starts it at boot');
    return { mode: this.mode, path: this.unitFile, changed, notes };
  }

  async start(): Promise<StartResult> {
    this.requireInstalled();
    const before = await this.state();
    if (before.activeState === 'active') {
      return { mode: this.mode, alreadyRunning: true, pid: before.mainPid, url: this.recordOf(before.mainPid)?.url ?? null, notes: [] };
    }
    const outside = readDaemonRecord(this.setup.daemonFile);
    if (outside && identifyDaemonProcess(outside.pid) === 'orch-serve') {
      throw new OrchError('conflict', `a daemon started outside systemd already runs for ${this.setup.home} (pid ${outside.pid}): stop it first`);
    }
    await this.run(['start', UNIT_NAME]);
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const state = await this.state();
      if (state.activeState === 'failed' || state.activeState === 'inactive') {
        throw new OrchError('conflict', `${UNIT_NAME} stopped before it answered: see \`${JOURNAL_HINT}\``);
      }
      const record = this.recordOf(state.mainPid);
      if (record && (await answersHealth(record.url))) return { mode: this.mode, alreadyRunning: false, pid: record.pid, url: record.url, notes: [] };
      await sleep(200);
    }
    throw new OrchError('conflict', `${UNIT_NAME} did not answer within ${START_TIMEOUT_MS / 1000}s: see \`${JOURNAL_HINT}\``);
  }

  async stop(): Promise<StopResult> {
    const before = await this.state();
    if (before.activeState !== 'active' && before.activeState !== 'activating') {
      return { mode: this.mode, wasRunning: false, pid: null, killed: false, notes: [] };
    }
    // systemd sends SIGTERM, waits TimeoutStopSec, then SIGKILL; `stop` returns when the unit is down.
    await this.run(['stop', UNIT_NAME]);
    const killed = (await this.state()).result === 'timeout';
    return { mode: this.mode, wasRunning: true, pid: before.mainPid, killed, notes: killed ? ['orch serve outlived its stop timeout and was killed; the next start recovers its tasks'] : [] };
  }

  async status(): Promise<ServiceStatus> {
    const installed = existsSync(this.unitFile);
    const notes: string[] = [];
    // Status answers even where systemctl cannot be asked (no session bus): it says what it knows.
    const state = await this.state().catch((error: Error): UnitState => {
      notes.push(error.message);
      return { activeState: 'unknown', mainPid: null, result: '' };
    });
    if (installed) {
      const [, environment] = renderServiceCommand(this.unitSpec());
      if (!readTextOrNull(this.unitFile)?.split('\n').includes(environment!)) {
        notes.push(`${this.unitFile} serves another ORCH_HOME than ${this.setup.home}: \`orch service install --force\` points it here`);
      }
    }
    const record = this.recordOf(state.mainPid);
    const startedAt = record?.startedAt || null;
    return {
      mode: this.mode,
      installed,
      path: this.unitFile,
      running: state.activeState === 'active',
      pid: state.mainPid,
      url: record?.url ?? null,
      startedAt,
      uptimeMs: startedAt === null ? null : Math.max(0, this.setup.now() - startedAt),
      log: JOURNAL_HINT,
      logTail: [],
      notes,
    };
  }

  private unitSpec() {
    const { orchCommand, home, graceSeconds, permanentExitCodes } = this.setup;
    return { orchCommand, home, graceSeconds, permanentExitCodes };
  }

  private requireInstalled(): void {
    if (!existsSync(this.unitFile)) throw new OrchError('not_found', `${this.unitFile} is not installed: run \`orch service install\` first`);
  }

  /** The daemon's record when it belongs to the unit's main process (not to a daemon started elsewhere). */
  private recordOf(mainPid: number | null): DaemonRecord | null {
    const record = readDaemonRecord(this.setup.daemonFile);
    return record && record.pid === mainPid ? record : null;
  }

  private async state(): Promise<UnitState> {
    const shown = await this.run(['show', UNIT_NAME, '--property=ActiveState,MainPID,Result']);
    const properties = new Map(
      shown.stdout
        .split('\n')
        .map((line) => line.split('='))
        .filter((parts) => parts.length >= 2)
        .map(([key, ...value]) => [key!, value.join('=')]),
    );
    const mainPid = Number(properties.get('MainPID'));
    return { activeState: properties.get('ActiveState') ?? 'unknown', mainPid: Number.isSafeInteger(mainPid) && mainPid > 0 ? mainPid : null, result: properties.get('Result') ?? '' };
  }

  private async run(args: string[]): Promise<SystemctlResult> {
    const result = await this.systemctl(args);
    if (!result.ok) {
      const why = result.stderr.trim().split('\n')[0] || 'no reason given';
      throw new OrchError('conflict', `systemctl --user ${args.join(' ')} failed: ${why}`);
    }
    return result;
  }

  private lingering(): boolean {
    try {
      return existsSync(join(this.lingerDir, userInfo().username));
    } catch {
      return false;
    }
  }
}
