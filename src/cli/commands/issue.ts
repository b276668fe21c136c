import type { Command } from 'commander';
import { OrchError } from '../../core/errors.js';
import { readyTasks, workerIfAny } from '../../engine/worker-requests.js';
import { table } from '../output.js';
import { command } from '../run.js';

export function registerIssueCommands(program: Command): void {
  const issue = program.command('issue').description('the work a pull worker may take');
  issue
    .command('ready')
    .description('the ready, unclaimed tasks, in the order Orch would dispatch them (a pull worker sees its own project only)')
    .option('-p, --project <name>', 'only this project')
    .option('--json', 'print JSON')
    .action(
      command(async (io, options: { project?: string }) => {
        const orch = await io.orch();
        const worker = await workerIfAny(orch, process.env.ORCH_RUN_ID);
        if (worker && options.project !== undefined && options.project !== worker.project) {
          throw new OrchError('invalid_input', `this worker works on project ${worker.project}, not ${options.project}`);
        }
        const tasks = await readyTasks(orch, worker?.project ?? options.project);
        const manyProjects = new Set(tasks.map((t) => t.project)).size > 1;
        io.out.emit(tasks, () =>
          tasks.length === 0
            ? 'No ready tasks.'
            : table(
                tasks.map((t) => [`#${t.id}`, String(t.priority), ...(manyProjects ? [t.project] : []), t.title, t.labels.join(', ')]),
                ['ID', 'PRI', ...(manyProjects ? ['PROJECT'] : []), 'TITLE', 'LABELS'],
              ),
        );
      }),
    );
}
