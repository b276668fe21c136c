import { join } from 'node:path';

/** Where a running daemon says how to reach it; its own module so the CLI can read it without loading the daemon. */
export const daemonFile = (home: string) => join(home, 'daemon.json');

export interface DaemonInfo {
  pid: number;
  url: string;
  startedAt: number;
}
