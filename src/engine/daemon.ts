import { Launcher, useLauncher } from '../launcher/launcher.js';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { writeFileAtomic } from '../config/atomic-write.js';
import { orchVersion } from '../cli/orch-version.js';
import { ensureApiToken } from '../config/token.js';
import { createApp } from '../server/app.js';
import { eventFeed } from '../server/event-feed.js';
import { startServer, type RunningServer } from '../server/serve.js';
import { LOGIN_CODE_TTL_MS, LoginCodes } from '../server/session.js';
import { watchConfig } from './config-watch.js';
import { daemonFile, type DaemonInfo } from './daemon-file.js';
import type { Orch } from './context.js';
import { flushEvents } from './event-writer.js';
import { DeliveryRetry } from './delivery-retry.js';
import { registerThisHost } from './hosts.js';
import { JobScheduler } from './jobs.js';
import { NotificationService } from './notifications.js';
import { patrol } from './patrol.js';
import { Scheduler } from './scheduler.js';
import { TrackerSync } from './tracker-sync.js';
import { listenForWakeups } from './wakeup-listener.js';

export interface DaemonOptions {
  host?: string;
  port?: number;
  logger: Logger;
  /** How often patrol makes its rounds; default 30 s, or the lease when shorter. */
  patrolMs?: number;
  /** How often held deliveries are tried again; default 10 s. */
  deliveryRetryMs?: number;
  sourceEnv?: NodeJS.ProcessEnv;
  /** How long a notification channel waits between reads when nothing wakes it; default 5 s. */
  notificationPollMs?: number;
  /** This daemon's name among the hosts sharing the store; default config `scheduler.host_name`, else the machine's. */
  hostName?: string;
}

export interface Daemon {
  url: string;
  token: string;
  scheduler: Scheduler;
  notifications: NotificationService;
  /** Stops dispatching, lets running tasks finish within `graceMs`, then closes everything. */
  stop(graceMs: number): Promise<void>;
  /** Resolves when the daemon has stopped. */
  stopped: Promise<void>;
}

/**
 * `orch serve`: recovery first, then the scheduler loop, cron jobs, patrol, config hot reload and the
 * HTTP API and dashboard on loopback behind a bearer token — one process keeping a portfolio moving.
 */
export async function startDaemon(orch: Orch, options: DaemonOptions): Promise<Daemon> {
  // Started first, stopped last: the daemon's git commands and agent CLIs start from them (launcher/).
  // Two: an agent's pipes are handed over one message at a time, each waiting for the daemon's
  // acknowledgement, and git's answers must not queue behind them while 32 agents start.
  const [gitLauncher, agentLauncher] = await Promise.all([Launcher.start(), Launcher.start()]);
  useLauncher({ git: gitLauncher, processes: agentLauncher });
  if (!gitLauncher || !agentLauncher) options.logger.warn('git or agents start from the daemon itself: a launcher could not start');
  const stopLauncher = () => {
    useLauncher({ git: null, processes: null });
    gitLauncher?.stop();
    agentLauncher?.stop();
  };
  try {
    return await startDaemonWith(orch, options, stopLauncher);
  } catch (error) {
    stopLauncher();
    throw error;
  }
}

async function startDaemonWith(orch: Orch, options: DaemonOptions, stopLauncher: () => void): Promise<Daemon> {
  const { logger } = options;
  const version = orchVersion();
  const hostName = options.hostName ?? orch.config.scheduler.hostName ?? undefined;
  let host = await registerThisHost(orch, { name: hostName, version });
  logger.info({ hostName: host.name }, `registered as host ${host.name}`);
  const heartbeat = async () => {
    try {
      if (await orch.store.heartbeatHost(host, orch.now())) return;
      // Another daemon took this name over while this one seemed dead (a long pause): register afresh.
      host = await registerThisHost(orch, { version });
      logger.warn({ hostName: host.name }, `this daemon's host row was taken over; registered again as ${host.name}`);
    } catch (error) {
      logger.error(`heartbeat failed: ${(error as Error).message.split('\n')[0]}`);
    }
  };
  const token = ensureApiToken(orch.home);
  const trackers = new TrackerSync(orch, {
    env: options.sourceEnv,
    // A change a watched tracker sees (a file moved in a markdown queue) ticks at once.
    onWake: () => scheduler.requestTick(),
    reportEachMove: true,
    onReport: (r) => {
      if (r.error) logger.warn({ project: r.project }, `tracker of ${r.project}: ${r.error}`);
      else if (r.created.length + r.cancelled.length + r.finished.length > 0) {
        logger.info({ project: r.project, created: r.created, cancelled: r.cancelled, finished: r.finished }, `tracker of ${r.project}: ${r.created.length} new, ${r.cancelled.length} cancelled, ${r.finished.length} finished`);
      }
    },
  });
  const scheduler = new Scheduler(orch, {
    trackers,
    sourceEnv: options.sourceEnv,
    onTick: heartbeat,
    onProgress: (p) => {
      if (p.type === 'started') logger.info({ task: p.taskId, agent: p.agent, slot: p.slot }, `started #${p.taskId} ${p.title}`);
      else if (p.type === 'finished') logger.info({ task: p.summary.task.id, state: p.summary.task.state, elapsedMs: p.elapsedMs }, `#${p.summary.task.id} ${p.summary.task.state}: ${p.summary.note}`);
      else if (p.type === 'failed') logger.error({ task: p.taskId }, p.message);
      else if (p.type === 'storage_full') logger.error(`the disk is full: nothing new starts until there is room again (${p.reason})`);
      else if (p.type === 'storage_available') logger.info(`the disk has room again after ${Math.round(p.fullForMs / 1000)} s: dispatch resumes`);
      else if (p.type === 'recovered') for (const r of p.recovered) logger.warn({ task: r.taskId, action: r.action }, `recovered #${r.taskId}: ${r.reason}`);
      else if (p.type === 'cancelling') logger.info({ task: p.taskId, decision: p.decision }, `stopping #${p.taskId} (${p.decision.replaceAll('_', ' ')}): ${p.reason}`);
      else if (p.type === 'routed') logger.info({ task: p.taskId, agent: p.agent, model: p.model, by: p.by }, `routed #${p.taskId} to ${p.agent}: ${p.reason}`);
      else if (p.type === 'worker_started') logger.info({ worker: p.workerId, project: p.project, agent: p.agent, slot: p.slot }, `worker w${p.workerId} looks for work in ${p.project}`);
      else if (p.type === 'worker_claimed') logger.info({ worker: p.workerId, task: p.taskId }, `worker w${p.workerId} claimed #${p.taskId} ${p.title}`);
      else if (p.type === 'worker_ended') logger.info({ worker: p.workerId, outcome: p.outcome }, `worker w${p.workerId} ended ${p.outcome}: ${p.reason}`);
    },
  });
  await scheduler.recover();
  let wakeupsDown = false;
  const sharedWakeups = listenForWakeups(orch, () => scheduler.requestTick(), {
    onListening: () => {
      if (wakeupsDown) logger.info('listening for wake-ups from other hosts again');
      wakeupsDown = false;
    },
    onError: (error) => {
      if (!wakeupsDown) logger.warn(`wake-ups from other hosts stopped (${error.message.split('\n')[0]}); reconnecting`);
      wakeupsDown = true;
    },
  });

  const jobs = new JobScheduler(orch, {
    sourceEnv: options.sourceEnv,
    onNotice: (notice) => {
      if (notice.type === 'failed') logger.error({ job: notice.job }, notice.error);
      else logger.info({ job: notice.job }, `job ${notice.job} ${notice.type}`);
      scheduler.requestTick();
    },
  });
  await jobs.start();

  // Started in the background: a channel's first read never holds up the daemon's start.
  const notifications = new NotificationService(orch, {
    wake: eventFeed(orch, { pollMs: 1000 }),
    env: options.sourceEnv,
    pollMs: options.notificationPollMs,
    onSent: (channel, message) => logger.info({ channel, kinds: message.kinds, tasks: message.taskIds }, `notified ${channel}: ${message.title}`),
    onFailed: (channel, error, failures) => logger.warn({ channel, failures }, `notification to ${channel} failed (${failures} in a row, retried with backoff): ${error}`),
    onError: (channel, error) => logger.error({ channel }, `notifications of ${channel}: ${error.message.split('\n')[0]}`),
  });
  const notificationsStarted = notifications.start().catch((error: Error) => logger.error(`notifications did not start: ${error.message.split('\n')[0]}`));

  const logins = new LoginCodes(orch.now);
  const app = createApp({
    orch,
    token,
    logins,
    requestTick: () => scheduler.requestTick(),
    requestSync: () => {
      trackers.requestSync();
      scheduler.requestTick();
    },
    tickStats: () => scheduler.stats,
    // Channels are read at start: /healthz speaks of notifications only when there are some.
    failingChannels: orch.config.notifications.length > 0 ? () => notifications.health().filter((channel) => channel.failing).map((channel) => channel.name) : undefined,
    env: options.sourceEnv ?? process.env,
    logger,
  });
  let server: RunningServer;
  try {
    server = await startServer(app, { host: options.host ?? orch.config.server.host, port: options.port ?? orch.config.server.port });
  } catch (error) {
    await notificationsStarted;
    await notifications.stop();
    await jobs.stop();
    await orch.store.markHostStopped(host, orch.now());
    await sharedWakeups.close();
    throw error;
  }
  const info: DaemonInfo = { pid: process.pid, url: server.url, startedAt: orch.now() };
  // Whole or not at all: a client reading it as it is written must never see half of it.
  writeFileAtomic(daemonFile(orch.home), `${JSON.stringify(info)}\n`, 0o600);
  logger.info({ url: server.url }, `listening on ${server.url} (token in ${join(orch.home, 'token')})`);
  // A one-time code, not the token: this line ends up in logs, and the code is dead once used or after minutes.
  const login = `${server.url}/login?code=${logins.issue().code}`;
  logger.info({ dashboard: login }, `dashboard: open ${login} (works once, for ${LOGIN_CODE_TTL_MS / 60_000} minutes; \`orch dashboard\` prints a fresh link)`);

  const stopWatching = watchConfig(orch, (result) => {
    if (result.ok) {
      logger.info('config reloaded');
      void jobs.reload();
      notifications.reload().catch((error: Error) => logger.error(`notifications of the new config did not start: ${error.message.split('\n')[0]}`));
      scheduler.requestTick();
    } else {
      logger.error(`config change refused, keeping the last good config: ${result.error}`);
    }
  });

  const deliveries = new DeliveryRetry(orch, {
    intervalMs: options.deliveryRetryMs,
    onOutcome: ({ project, commits, result, held }) => {
      if (result.delivered) logger.info({ project, commits }, `delivered ${commits} held commit(s) of ${project}`);
      else logger.warn({ project, commits, reason: result.reason }, `${project}: ${held?.summary ?? result.message}`);
    },
    onError: (project, error) => logger.error({ project }, `delivery of ${project} failed: ${error.message.split('\n')[0]}`),
  });
  deliveries.start();
  deliveries.request();

  let patrols = 0;
  // At least once a lease: a claim a dead host left is taken over within a lease of its expiry.
  const patrolTimer = setInterval(() => {
    patrols++;
    patrol(orch, new Set(scheduler.running()), { checkDisk: patrols % 20 === 1 }).then(
      (report) => {
        for (const p of report.paused) logger.warn({ project: p.project }, p.reason);
        for (const w of report.diskWarnings) logger.warn({ project: w.project, bytes: w.bytes }, `project ${w.project} uses ${(w.bytes / 1024 ** 3).toFixed(1)} GB`);
        if (report.recovered.length > 0) scheduler.requestTick();
      },
      (error: Error) => logger.error(`patrol failed: ${error.message}`),
    );
  }, options.patrolMs ?? Math.min(30_000, orch.config.scheduler.leaseS * 1000));

  const controller = new AbortController();
  let graceMs = 0;
  const loop = scheduler.run({
    signal: controller.signal,
    get graceMs() {
      return graceMs;
    },
  });

  const stopped = loop.then(async () => {
    clearInterval(patrolTimer);
    await sharedWakeups.close();
    trackers.close();
    await deliveries.stop();
    await notificationsStarted;
    await notifications.stop();
    stopWatching();
    await jobs.stop();
    await server.close();
    rmSync(daemonFile(orch.home), { force: true });
    // Agent events still queued for a batch are stored before the store closes.
    await flushEvents(orch.store);
    // Its claims, if any run past the grace period, are free to take over from here on.
    await orch.store.markHostStopped(host, orch.now()).catch((error: Error) => logger.error(`could not mark host ${host.name} stopped: ${error.message}`));
    stopLauncher();
    logger.info('stopped');
  });

  return {
    url: server.url,
    token,
    scheduler,
    notifications,
    stop: async (grace: number) => {
      graceMs = grace;
      controller.abort();
      await stopped;
    },
    stopped,
  };
}
