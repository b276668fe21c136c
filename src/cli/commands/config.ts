import type { Command } from 'commander';
import { getConfigValue } from '../../config/edit.js';
import { configPath, loadConfig } from '../../config/load.js';
import { OrchError } from '../../core/errors.js';
import { stringify } from 'yaml';
import { command } from '../run.js';

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('inspect the configuration');

  config
    .command('path')
    .description('print where config.yaml lives')
    .option('--json', 'print JSON')
    .action(
      command(async (io) => {
        const path = configPath(io.home);
        io.out.emit({ path, home: io.home }, () => path);
      }),
    );

  config
    .command('validate')
    .description('check config.yaml and every project\'s orch.yaml')
    .option('--json', 'print JSON')
    .action(
      command(async (io) => {
        const resolved = loadConfig(io.home);
        const files = [resolved.configPath, ...Object.values(resolved.projects).flatMap((p) => (p.projectFile ? [p.projectFile] : []))];
        io.out.emit({ valid: true, files }, () => `Valid: ${files.join(', ')}`);
      }),
    );

  config
    .command('get')
    .description('print a resolved value, e.g. `scheduler.max_agents` or `projects.web.judge`')
    .argument('[key]', 'dotted key path (default: everything)', '')
    .option('--json', 'print JSON')
    .action(
      command(async (io, key: string) => {
        const value = getConfigValue(loadConfig(io.home), key);
        if (value === undefined) throw new OrchError('not_found', `no config key "${key}"`);
        io.out.emit(value, () => (typeof value === 'object' && value !== null ? stringify(value).trimEnd() : String(value)));
      }),
    );
}
