import type { Orch } from '../engine/context.js';
import type { LoginCodes } from './session.js';

/** What the daemon's scheduler reports about its ticks, for /metrics. */
export interface TickStats {
  /** How long the last tick took, in milliseconds; null before the first one. */
  lastTickMs: number | null;
  /** When the last tick ended (epoch ms); null before the first one. */
  lastTickAt: number | null;
  ticks: number;
  /** Set while the disk is full and nothing new starts: since when (epoch ms) and the error that said so. */
  storageFull?: { since: number; reason: string } | null;
}

/** The part of a pino logger the server writes to. */
export interface ServerLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

/** Everything the HTTP face needs from the daemon that hosts it. */
export interface ServerDeps {
  orch: Orch;
  /** The bearer token every route but /healthz requires. */
  token: string;
  /** Asks the scheduler for a tick as soon as it can (a change may let work start). */
  requestTick: () => void;
  /** A tracker said something changed: sync trackers now, then tick. Default: requestTick. */
  requestSync?: () => void;
  tickStats: () => TickStats;
  /** Names of the notification channels whose last send failed; absent: no notifier runs. */
  failingChannels?: () => string[];
  /** The clock; defaults to the Orch's. */
  now?: () => number;
  /** Where webhook secrets are read from (config names the variables); defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Refused and accepted webhooks are logged here; none when absent. */
  logger?: ServerLogger;
  /** The dashboard's one-time login codes; the daemon keeps the set so it can print a link at start. */
  logins?: LoginCodes;
  /** Where the built dashboard is; default: beside the compiled server. null: serve none. */
  dashboardDir?: string | null;
  /** How often /events looks at the store when no wake-up tells it (SQLite), and how often it sends a heartbeat; tests shorten them. */
  events?: { pollMs?: number; heartbeatMs?: number };
}
