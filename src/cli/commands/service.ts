import { existsSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { daemonFile } from '../../engine/daemon-file.js';
import { openServiceManager } from '../../service/mode.js';
import type { ServiceManager, ServiceSetup, ServiceStatus } from '../../service/service.js';
import { parsePort } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { relativeTime } from '../output.js';
import { command, type CommandIo } from '../run.js';
import { DEFAULT_GRACE_SECONDS } from './serve.js';

/** This CLI's entry script: from the bundle's chunks in dist/bundle/, or from tsc's dist/cli/commands/. */
function orchEntryScript(): string {
  const candidates = ['../cli/main.js', '../main.js'].map((path) => fileURLToPath(new URL(path, import.meta.url)));
  return realpathSync(candidates.find((path) => existsSync(path)) ?? candidates.at(-1)!);
}

/** What a service manager needs to run this very Orch: this node, this CLI, this ORCH_HOME. */
function serviceSetup(home: string): ServiceSetup {
  const absoluteHome = resolve(home);
  return {
    home: absoluteHome,
    // The entry script itself, not a `orch` link on PATH: a service manager has no PATH of the user's.
    orchCommand: [process.execPath, orchEntryScript()],
    daemonFile: daemonFile(absoluteHome),
    graceSeconds: DEFAULT_GRACE_SECONDS,
    permanentExitCodes: [EXIT.invalid_input, EXIT.conflict, EXIT.config],
    env: process.env,
    now: Date.now,
  };
}

/** The manager for this ORCH_HOME, once the home is known to be initialised with a valid config. */
async function serviceFor(io: CommandIo): Promise<ServiceManager> {
  await io.orch();
  return openServiceManager(serviceSetup(io.home));
}

const withNotes = (lines: string[], notes: string[]) => [...lines, ...notes.map((note) => `note: ${note}`)].join('\n');

export function registerServiceCommands(program: Command): void {
  const service = program
    .command('service')
    .description('keep the daemon running in the background: a systemd user unit where systemd runs, else a detached process with a pid file (ORCH_SERVICE_MODE=systemd|pid-file forces one)');

  service
    .command('install')
    .description('write and enable the systemd user unit for `orch serve` (with no systemd: record the pid-file mode)')
    .option('--port <port>', 'port the daemon listens on (default: config server.port, 7878)', parsePort)
    .option('--force', 'replace an installed unit that differs')
    .option('--json', 'print JSON')
    .action(
      command(async (io, options: { port?: number; force?: boolean }) => {
        const result = await (await serviceFor(io)).install({ port: options.port, force: Boolean(options.force) });
        io.out.emit(result, () => {
          const done =
            result.mode === 'systemd'
              ? `${result.changed ? 'Installed' : 'Already installed:'} ${result.path}, enabled. \`orch service start\` starts it now.`
              : `Pid-file mode recorded in ${result.path}.`;
          return withNotes([done], result.notes);
        });
      }),
    );

  service
    .command('start')
    .description('start the daemon in the background and wait until it answers')
    .option('--json', 'print JSON')
    .action(
      command(async (io) => {
        const result = await (await serviceFor(io)).start();
        io.out.emit(result, () => withNotes([`${result.alreadyRunning ? 'Already running' : 'Started'} (${result.mode}): pid ${result.pid ?? '?'}, ${result.url ?? 'no URL yet'}`], result.notes));
      }),
    );

  service
    .command('stop')
    .description('stop the daemon: SIGTERM, the grace period for running tasks, then SIGKILL')
    .option('--json', 'print JSON')
    .action(
      command(async (io) => {
        const result = await openServiceManager(serviceSetup(io.home)).stop();
        io.out.emit(result, () => withNotes([result.wasRunning ? `Stopped (${result.mode}): pid ${result.pid ?? '?'}${result.killed ? ', killed' : ''}` : `Not running (${result.mode}).`], result.notes));
      }),
    );

  service
    .command('status')
    .description('mode, installed or not, running or not, pid, URL and uptime; the end of the log when it is down')
    .option('--json', 'print JSON')
    .action(
      command(async (io) => {
        const status = await openServiceManager(serviceSetup(io.home)).status();
        io.out.emit(status, () => describeStatus(status, Date.now()));
      }),
    );
}

function describeStatus(status: ServiceStatus, now: number): string {
  const lines = [
    `Mode       ${status.mode}`,
    `Installed  ${status.installed ? `yes (${status.path})` : 'no: `orch service install`'}`,
    `Running    ${status.running ? `yes, pid ${status.pid ?? '?'}${status.url ? `, ${status.url}` : ''}${status.startedAt ? `, started ${relativeTime(status.startedAt, now)}` : ''}` : 'no'}`,
    `Log        ${status.log}`,
  ];
  if (status.logTail.length > 0) lines.push('', `Last lines of ${status.log}:`, ...status.logTail.map((line) => `  ${line}`));
  return withNotes(lines, status.notes);
}
