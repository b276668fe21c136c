import type { Command } from 'commander';
import { pino } from 'pino';
import { OrchError } from '../../core/errors.js';
import { startDaemon } from '../../engine/daemon.js';
import { parseHostName, parsePort, parseSecondsOrZero } from '../args.js';
import { runningDaemon } from '../daemon-client.js';
import { command } from '../run.js';
import { killAgentsNow, runningAgents } from '../../engine/abandon.js';

/** How long running tasks may finish after SIGTERM unless `--grace` says otherwise. */
export const DEFAULT_GRACE_SECONDS = 30;

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the daemon in the foreground: scheduler, cron jobs, patrol, HTTP API and live events')
    .option('--host <host>', 'address to listen on (default: config server.host, 127.0.0.1)')
    .option('--port <port>', 'port to listen on (default: config server.port, 7878; 0 picks one)', parsePort)
    .option('--host-name <name>', "this daemon's name among those sharing the store (default: config scheduler.host_name, else the machine's name, suffixed when another live daemon has it)", parseHostName)
    .option('--grace <seconds>', 'on SIGTERM, how long running tasks may finish before Orch exits (the rest is recovered at the next start)', parseSecondsOrZero, DEFAULT_GRACE_SECONDS)
    .action(
      command(async (io, options: { host?: string; port?: number; hostName?: string; grace: number }) => {
        const orch = await io.orch();
        const other = runningDaemon(orch.home);
        if (other && other.pid !== process.pid) throw new OrchError('conflict', `a daemon already runs for ${orch.home} (pid ${other.pid}, ${other.url})`);
        const logger = pino({ base: { pid: process.pid } });
        const daemon = await startDaemon(orch, { host: options.host, port: options.port, hostName: options.hostName, logger });
        const shutdown = (signal: string) => {
          logger.info(`${signal}: no new work starts; running tasks have ${options.grace}s to finish`);
          void daemon.stop(options.grace * 1000);
        };
        process.once('SIGTERM', () => shutdown('SIGTERM'));
        process.once('SIGINT', () => shutdown('SIGINT'));
        await daemon.stopped;
        // The grace period is over: agents still running are left to the next start's recovery, and
        // Orch exits now rather than when they end.
        const left = await runningAgents(orch);
        if (left.length > 0) {
          killAgentsNow(left);
          logger.info(`${left.length} agent run(s) still going after the grace period were stopped: the next start recovers them`);
          process.exit(0);
        }
      }),
    );
}
