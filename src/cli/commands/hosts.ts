import type { Command } from 'commander';
import { listHostViews } from '../../engine/hosts.js';
import { relativeTime, table } from '../output.js';
import { command } from '../run.js';

export function registerHostsCommand(program: Command): void {
  program
    .command('hosts')
    .description('list the daemons sharing this store: alive, stale (no heartbeat for a while) or gone, with their version, slots and running tasks')
    .option('--json', 'print JSON')
    .action(
      command(async (io) => {
        const orch = await io.orch();
        const hosts = await listHostViews(orch);
        const now = orch.now();
        io.out.emit(hosts, () =>
          hosts.length === 0
            ? 'No hosts: no daemon (`orch serve`) has run on this store yet.'
            : table(
                hosts.map((h) => [
                  h.name,
                  h.state,
                  `${h.machine}:${h.pid}`,
                  h.version,
                  `${h.running.length}/${h.slots}`,
                  h.running.map((id) => `#${id}`).join(' '),
                  h.state === 'gone' ? `stopped ${relativeTime(h.stoppedAt!, now)}` : `heartbeat ${relativeTime(h.heartbeatAt, now)}`,
                ]),
                ['HOST', 'STATE', 'PROCESS', 'VERSION', 'SLOTS', 'RUNNING', 'SEEN'],
              ),
        );
      }),
    );
}
