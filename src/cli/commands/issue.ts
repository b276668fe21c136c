import type { Command } from 'commander';
import { table } from '../output.js';
import { command } from '../run.js';
import { askOrch } from '../worker-api-client.js';

export function registerIssueCommands(program: Command): void {
  const issue = program.command('issue').description('the work a pull worker may take');
  issue
    .command('ready')
    .description('the ready, unclaimed tasks, in the order Orch would dispatch them (a pull worker sees its own project only)')
    .option('-p, --project <name>', 'only this project')
    .option('--json', 'print JSON')
    .action(
      command(async (io, options: { project?: string }) => {
        const answer = await askOrch(io, { kind: 'ready', project: options.project ?? null });
        const tasks = answer.kind === 'ready' ? answer.tasks : [];
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
