import { mkdirSync } from 'node:fs';
import type { Command } from 'commander';
import { configPath } from '../../config/load.js';
import { writeInitialConfig } from '../../config/edit.js';
import type { Project } from '../../core/types.js';
import { describeStoreTarget, storeTarget } from '../../engine/context.js';
import { addProject } from '../../engine/projects.js';
import { repositoryRoot } from '../../workspace/git.js';
import { command } from '../run.js';

export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('set up ORCH_HOME and register the git repository you are in as a project')
    .option('-n, --name <name>', 'project name (default: the directory name)')
    .option('--json', 'print JSON')
    .action(
      command(async (io, options: { name?: string }) => {
        mkdirSync(io.home, { recursive: true, mode: 0o700 });
        const createdConfig = writeInitialConfig(io.home);
        const orch = await io.orch();
        const root = await repositoryRoot(process.cwd());
        let project: Project | undefined;
        let alreadyRegistered: string | undefined;
        if (root) {
          const existing = (await orch.store.listProjects()).find((p) => p.repoPath === root);
          if (existing) alreadyRegistered = existing.name;
          else project = await addProject(orch, { path: root, name: options.name });
        }
        const result = { home: io.home, config: configPath(io.home), database: describeStoreTarget(storeTarget(io.home, orch.config.databaseUrl)), createdConfig, project: project ?? null, alreadyRegistered: alreadyRegistered ?? null };
        io.out.emit(result, () => {
          const lines = [`Orch is ready in ${io.home}`, `  config    ${result.config}${createdConfig ? ' (created)' : ''}`, `  database  ${result.database}`, ''];
          if (project) lines.push(`Registered project ${project.name}: ${project.repoPath} (default branch ${project.defaultBranch}).`);
          else if (alreadyRegistered) lines.push(`This repository is already registered as project ${alreadyRegistered}.`);
          else lines.push('No git repository here: register one with `orch project add <path>`.');
          lines.push(
            '',
            'Next steps:',
            '  orch task add "Describe one change" --body "Context and acceptance criteria"',
            '  orch task add "A follow-up" --depends-on 1',
            '  orch plan --dry-run        what the next tick would start, and why the rest waits',
            '  orch status                the whole portfolio at a glance',
          );
          return lines.join('\n');
        });
      }),
    );
}
