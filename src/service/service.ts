/**
 * The contract every way of keeping `orch serve` running in the background meets: a systemd user unit
 * where a user manager runs (`systemd.ts`), else a detached process tracked by a pid file
 * (`pid-file.ts`). `mode.ts` picks one. The CLI only calls these four operations and prints the results.
 */

export const SERVICE_MODES = ['systemd', 'pid-file'] as const;
export type ServiceMode = (typeof SERVICE_MODES)[number];

/** The environment variable that forces a mode instead of detecting one. */
export const SERVICE_MODE_ENV = 'ORCH_SERVICE_MODE';

/** How long `start` waits for the daemon to answer before it gives up and points at the log. */
export const START_TIMEOUT_MS = 15_000;

export interface ServiceSetup {
  /** The absolute ORCH_HOME the daemon serves. */
  home: string;
  /** Absolute argv that runs Orch's own CLI (node and its entry script); `serve` is appended. */
  orchCommand: [executable: string, ...args: string[]];
  /** Where a running daemon records `{pid, url, startedAt}` (and removes it on a clean exit). */
  daemonFile: string;
  /** How long `orch serve` lets running tasks finish after SIGTERM; stopping waits a little longer. */
  graceSeconds: number;
  /** Exit codes of `orch serve` that restarting would not cure (bad usage, a conflict, a broken config). */
  permanentExitCodes: readonly number[];
  env: NodeJS.ProcessEnv;
  now: () => number;
}

export interface InstallOptions {
  /** The port the daemon listens on; the config's `server.port` when absent. */
  port?: number;
  /** Replace an installed service that differs from the one this install would write. */
  force: boolean;
}

export interface InstallResult {
  mode: ServiceMode;
  /** The file that records the installation (the unit file, or the pid-file mode's record). */
  path: string;
  /** False when the same installation was already in place. */
  changed: boolean;
  notes: string[];
}

export interface StartResult {
  mode: ServiceMode;
  alreadyRunning: boolean;
  pid: number | null;
  url: string | null;
  notes: string[];
}

export interface StopResult {
  mode: ServiceMode;
  wasRunning: boolean;
  pid: number | null;
  /** True when the daemon outlived its grace period and was killed. */
  killed: boolean;
  notes: string[];
}

export interface ServiceStatus {
  mode: ServiceMode;
  installed: boolean;
  /** The unit file, or the pid-file mode's record. */
  path: string;
  running: boolean;
  pid: number | null;
  url: string | null;
  /** When the running daemon started (ms since the epoch), from its daemon.json. */
  startedAt: number | null;
  uptimeMs: number | null;
  /** Where the daemon's output goes: a file, or the journal. */
  log: string;
  /** The log's last lines, shown when a pid-file daemon is not running (why did it stop?). */
  logTail: string[];
  notes: string[];
}

export interface ServiceManager {
  readonly mode: ServiceMode;
  install(options: InstallOptions): Promise<InstallResult>;
  /** Starts the daemon and waits until it answers on /healthz; a running daemon is left alone. */
  start(): Promise<StartResult>;
  /** SIGTERM, the grace period, then SIGKILL; stale pid files are cleaned up on the way. */
  stop(): Promise<StopResult>;
  status(): Promise<ServiceStatus>;
}
