import type { Command } from 'commander';
import { addProject, projectStatus, removeProject, setPaused } from '../../engine/projects.js';
import { table } from '../output.js';
import { command } from '../run.js';

export function registerProjectCommands(program: Command): void {
  const project = program.command('project').description('manage the portfolio of repositories Orch works on');

  project
    .command('add')
    .description('register a git repository as a project')
    .argument('[path]', 'a directory inside the repository', '.')
    .option('-n, --name <name>', 'project name (default: the directory name)')
    .option('--default-branch <branch>', 'branch results are merged into (default: the repository\'s HEAD)')
    .option('--json', 'print JSON')
    .action(
      command(async (io, path: string, options: { name?: string; defaultBranch?: string }) => {
        const orch = await io.orch();
        const added = await addProject(orch, { path, name: options.name, defaultBranch: options.defaultBranch });
        io.out.emit(added, () => `Added project ${added.name} (${added.repoPath}, default branch ${added.defaultBranch})`);
      }),
    );

  project
    .command('list')
    .description('list projects')
    .option('--json', 'print JSON')
    .action(
      command(async (io) => {
        const orch = await io.orch();
        const projects = await orch.store.listProjects();
        io.out.emit(projects, () =>
          projects.length === 0
            ? 'No projects. Run `orch project add <path>`.'
            : table(
                projects.map((p) => [p.name, p.paused ? 'paused' : 'active', p.defaultBranch, p.repoPath ?? p.remoteUrl ?? '', orch.config.projects[p.name] ? '' : '(not in config.yaml)']),
                ['NAME', 'STATUS', 'BRANCH', 'REPOSITORY', ''],
              ),
        );
      }),
    );

  project
    .command('remove')
    .description('remove a project and its tasks from Orch (the repository itself is untouched)')
    .argument('<name>')
    .option('--force', 'even while tasks of it are running')
    .option('--json', 'print JSON')
    .action(
      command(async (io, name: string, options: { force?: boolean }) => {
        const orch = await io.orch();
        await removeProject(orch, name, options);
        io.out.emit({ removed: name }, () => `Removed project ${name}`);
      }),
    );

  for (const [verb, paused] of [['pause', true], ['resume', false]] as const) {
    const sub = project
      .command(verb)
      .description(paused ? 'stop starting new work in a project (running work finishes)' : 'start dispatching a paused project again')
      .argument('<name>')
      .option('--json', 'print JSON');
    if (paused) sub.option('--reason <text>', 'why, shown in status');
    sub.action(
      command(async (io, name: string, options: { reason?: string }) => {
        const orch = await io.orch();
        const p = await setPaused(orch, name, paused, options.reason);
        io.out.emit(p, () => (paused ? `Paused ${p.name}: ${p.pausedReason}` : `Resumed ${p.name}`));
      }),
    );
  }

  project
    .command('status')
    .description('a project\'s tasks, runs and spend')
    .argument('<name>')
    .option('--json', 'print JSON')
    .action(
      command(async (io, name: string) => {
        const orch = await io.orch();
        const s = await projectStatus(orch, name);
        io.out.emit(s, () =>
          [
            `${s.project.name}  ${s.project.paused ? `paused (${s.project.pausedReason})` : 'active'}${s.configured ? '' : '  — not in config.yaml, not dispatched'}`,
            `  repository  ${s.project.repoPath ?? s.project.remoteUrl}  (${s.project.defaultBranch})`,
            `  running     ${s.running}${s.maxAgents !== null ? ` of ${s.maxAgents}` : ''}    claims ${s.claims}    spent today $${s.spentTodayUsd.toFixed(2)}`,
            ...(s.mode === 'pull' ? [`  mode        pull: ${s.idleWorkers} worker(s) looking for a task`] : []),
            `  tasks       ${Object.entries(s.tasks).map(([state, n]) => `${state} ${n}`).join(', ') || 'none'}`,
            `  disk        ${(s.diskBytes / 1024 / 1024).toFixed(1)} MB in Orch's clone and worktrees`,
            ...(s.delivery ? [`  delivery    ${s.delivery.summary}`] : []),
          ].join('\n'),
        );
      }),
    );
}
