import { hostname } from 'node:os';
import type { Command } from 'commander';
import { groupAlive, terminateGroup } from '../../agents/process-group.js';
import { OrchError } from '../../core/errors.js';
import { getTask } from '../../engine/tasks.js';
import { parseTaskId } from '../args.js';
import { command } from '../run.js';

/** How long the agent gets to exit on SIGTERM before the rest of its group is killed. */
const KILL_GRACE_MS = 5000;

export function registerKillCommand(task: Command): void {
  task
    .command('kill')
    .description("stop a task's running agent now; the run ends and the task is retried as usual")
    .argument('<id>', 'task id', parseTaskId)
    .option('--json', 'print JSON')
    .action(
      command(async (io, id: number) => {
        const orch = await io.orch();
        await getTask(orch.store, id);
        const run = (await orch.store.listRuns({ taskId: id, open: true })).at(-1);
        if (!run) throw new OrchError('conflict', `task ${id} has no running agent`);
        // A process group can only be signalled from its own host; the run's owner there must stop it.
        if (run.host !== null && run.host !== hostname()) {
          throw new OrchError('conflict', `run ${run.id} of task ${id} runs on host ${run.host}, not here: run \`orch task kill ${id}\` there`);
        }
        if (run.pid === null || !groupAlive(run.pid)) throw new OrchError('conflict', `run ${run.id} of task ${id} has no live agent process`);
        // Recorded first, so the log reads "kill requested" before the run's end that follows from it.
        await orch.store.appendEvent(
          { type: 'run.kill_requested', project: run.project, taskId: id, runId: run.id, data: { pid: run.pid, host: hostname(), by: `${hostname()}:${process.pid}` } },
          orch.now(),
        );
        // Only the agent is stopped: the process that owns the run sees it exit, names the outcome and
        // moves the task on (retry or review) as after any crash — nothing here writes the run or task.
        await terminateGroup(run.pid, KILL_GRACE_MS);
        io.out.emit({ taskId: id, runId: run.id, pid: run.pid, stopped: true }, () => `Stopped the agent of #${id} (run ${run.id}, pid ${run.pid}); its run ends and the task is retried as usual.`);
      }),
    );
}
