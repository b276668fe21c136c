import type { Command } from 'commander';
import { renderTaskBrief } from '../../core/task-brief.js';
import type { WorkerAnswer } from '../../core/worker-api.js';
import { parseTaskId } from '../args.js';
import { command } from '../run.js';
import { askOrch } from '../worker-api-client.js';

// The commands a pull worker's agent runs. ORCH_RUN_ID (set by Orch in the agent's environment)
// names the worker; without it they refuse in one line. Inside a sandbox they ask the worker's API
// Orch handed in (ORCH_WORKER_API), never the database.

const answered = <Kind extends WorkerAnswer['kind']>(answer: WorkerAnswer, kind: Kind) => {
  if (answer.kind !== kind) throw new Error(`Orch answered a ${kind} request with ${answer.kind}`);
  return answer as Extract<WorkerAnswer, { kind: Kind }>;
};

export function registerWorkerCommands(agent: Command): void {
  agent
    .command('claim')
    .description('(pull workers) claim a ready task (without an id: the first ready one no other worker took); refused with exit 6 when another worker holds it')
    .argument('[id]', 'task id (see `orch issue ready`)', parseTaskId)
    .option('--json', 'print JSON')
    .action(
      command(async (io, id: number | undefined) => {
        const { task, runId } = answered(await askOrch(io, { kind: 'claim', taskId: id ?? null }), 'claim');
        io.out.emit({ task, runId }, () => `Claimed #${task.id} ${task.title} (attempt ${task.attempt}). Read it with \`orch agent describe\`.`);
      }),
    );

  agent
    .command('describe')
    .description('(pull workers) the claimed task: what to do, acceptance criteria, earlier failures, the result contract')
    .option('--json', 'print JSON')
    .action(
      command(async (io) => {
        const { brief } = answered(await askOrch(io, { kind: 'describe' }), 'describe');
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
        const { worker, taskId, doneAt } = answered(await askOrch(io, { kind: 'done', summary: options.summary?.trim() || null }), 'done');
        io.out.emit({ worker, taskId, doneAt }, () =>
          taskId === null ? 'Noted: you claimed nothing. Exit now.' : `Noted. Exit now: Orch commits what is left of task #${taskId}, judges and merges it.`,
        );
      }),
    );
}
