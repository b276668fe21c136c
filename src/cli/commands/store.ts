import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { configPath, loadConfig } from '../../config/load.js';
import { OrchError } from '../../core/errors.js';
import { describeStoreTarget, openStoreAt, storeTarget } from '../../engine/context.js';
import { command } from '../run.js';

export function registerStoreCommands(program: Command): void {
  const store = program.command('store').description('the database Orch keeps its state in');
  store
    .command('migrate')
    .description('bring the database schema up to date (running it again applies nothing)')
    .option('--json', 'print JSON')
    .action(
      command(async (io) => {
        const target = storeTarget(io.home, existsSync(configPath(io.home)) ? loadConfig(io.home).databaseUrl : null);
        if (target.kind === 'sqlite' && !existsSync(configPath(io.home))) {
          throw new OrchError('not_initialised', `Orch is not initialised in ${io.home}: run \`orch init\` first, or set ORCH_DATABASE_URL`);
        }
        const opened = await openStoreAt(target, { migrate: false });
        let applied: number[];
        try {
          applied = await opened.migrate();
        } finally {
          await opened.close();
        }
        const known = await knownMigrations(target.kind);
        const names = new Map(known.map((migration) => [migration.version, migration.name]));
        const version = Math.max(0, ...known.map((migration) => migration.version));
        const result = {
          database: describeStoreTarget(target),
          kind: target.kind,
          applied: applied.map((v) => ({ version: v, name: names.get(v) ?? '' })),
          version,
        };
        io.out.emit(result, () =>
          applied.length === 0
            ? `${result.database}: the schema is up to date (version ${version}); nothing to apply.`
            : [
                `${result.database}: applied ${applied.length} migration(s), the schema is now at version ${version}.`,
                ...result.applied.map((migration) => `  ${migration.version}  ${migration.name}`),
              ].join('\n'),
        );
      }),
    );
}

async function knownMigrations(kind: 'sqlite' | 'postgres') {
  if (kind === 'sqlite') return (await import('../../store/sqlite/migrations.js')).MIGRATIONS;
  return (await import('../../store/postgres/migrations.js')).POSTGRES_MIGRATIONS;
}
