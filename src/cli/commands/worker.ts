import type { Command } from 'commander';
import { renderTaskBrief } from '../../core/task-brief.js';
import { callingWorker, claimForWorker, describeForWorker, markWorkerDone } from '../../engine/worker-requests.js';
import { parseTaskId } from '../args.js';
import { command } from '../run.js';

// The commands a pull worker's agent runs. ORCH_RUN_ID (set by Orch in the agent's environment)
// names the worker; without it they refuse in one line.

export function registerWorkerCommands(agent: Command): void {
  agent
    .command('claim')
    .description('(pull workers) claim a ready task; refused with exit 6 when another worker holds it')
    .argument('<id>', 'task id (see `orch issue ready`)', parseTaskId)
    .option('--json', 'print JSON')
    .action(
      command(async (io, id: number) => {
        const orch = await io.orch();
        const worker = await callingWorker(orch, process.env.ORCH_RUN_ID);
        const { task, run } = await claimForWorker(orch, worker, id);
        io.out.emit({ task: { id: task.id, title: task.title, state: task.state, attempt: task.attempts }, runId: run.id }, () =>
          `Claimed #${task.id} ${task.title} (attempt ${task.attempts}). Read it with \`orch agent describe\`.`,
        );
      }),
    );

  agent
    .command('describe')
    .description('(pull workers) the claimed task: what to do, acceptance criteria, earlier failures, the result contract')
    .option('--json', 'print JSON')
    .action(
      command(async (io) => {
        const orch = await io.orch();
        const brief = await describeForWorker(orch, await callingWorker(orch, process.env.ORCH_RUN_ID));
        io.out.emit(brief, () => renderTaskBrief(brief));
      }),
    );

  agent
    .command('done')
    .description('(pull workers) say you have finished; when you exit, Orch commits what is left, judges and merges')
    .option('-s, --summary <text>', 'one line on what you did')
    .option('--json', 'print JSON')
    .action(
      command(async (io, options: { summary?: string }) => {
        const orch = await io.orch();
        const worker = await markWorkerDone(orch, await callingWorker(orch, process.env.ORCH_RUN_ID), options.summary?.trim() || null);
        io.out.emit({ worker: worker.id, taskId: worker.taskId, doneAt: worker.doneAt }, () =>
          worker.taskId === null
            ? 'Noted: you claimed nothing. Exit now.'
            : `Noted. Exit now: Orch commits what is left of task #${worker.taskId}, judges and merges it.`,
        );
      }),
    );
}
