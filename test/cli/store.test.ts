// `orch store migrate` and a PostgreSQL store chosen by config.yaml or ORCH_DATABASE_URL, with the
// built CLI against a throwaway cluster.

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres/migrations.js';
import { orch as runOrch } from '../helpers/cli.js';
import { tempDir } from '../helpers/git.js';
import { startPostgres, type PostgresCluster } from '../rig/postgres.js';

let cluster: PostgresCluster;
let scratch: { path: string; cleanup: () => void };
let home: string;
let databases = 0;
const orch = (...args: string[]) => runOrch(args, { cwd: scratch.path, home });
const newestVersion = POSTGRES_MIGRATIONS.at(-1)!.version;

beforeAll(async () => {
  cluster = await startPostgres();
});
afterAll(async () => {
  await cluster?.destroy();
});
beforeEach(() => {
  scratch = tempDir();
  home = join(scratch.path, 'home');
  mkdirSync(home);
});
afterEach(() => {
  delete process.env.ORCH_DATABASE_URL;
  scratch.cleanup();
});

function configure(databaseUrl: string): void {
  writeFileSync(join(home, 'config.yaml'), `database_url: ${databaseUrl}\n`);
}

describe('orch store migrate', () => {
  it('applies the migrations once to the database config.yaml names, then has nothing to do', async () => {
    const url = await cluster.createDatabase(`cli_${++databases}`);
    configure(url);

    const first = orch('store', 'migrate');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`${url}: applied ${POSTGRES_MIGRATIONS.length} migration(s), the schema is now at version ${newestVersion}.`);
    expect(first.stdout).toContain('  1  initial schema');

    const again = orch('store', 'migrate', '--json');
    expect(again.code).toBe(0);
    expect(again.json()).toEqual({ database: url, kind: 'postgres', applied: [], version: newestVersion });
    expect(orch('store', 'migrate').stdout.trim()).toBe(`${url}: the schema is up to date (version ${newestVersion}); nothing to apply.`);
  });

  it('takes ORCH_DATABASE_URL over config.yaml', async () => {
    const url = await cluster.createDatabase(`cli_${++databases}`);
    configure(`postgres://postgres@127.0.0.1:${cluster.port}/not_this_one`);
    process.env.ORCH_DATABASE_URL = url;

    const result = orch('store', 'migrate', '--json');
    expect(result.stderr).toBe('');
    expect(result.json()).toMatchObject({ database: url, kind: 'postgres', applied: POSTGRES_MIGRATIONS.map(({ version, name }) => ({ version, name })) });
  });

  it('says in one line where PostgreSQL was looked for and what to check when it is not there', async () => {
    const url = await cluster.createDatabase(`cli_${++databases}`);
    configure(url);
    await cluster.stop();
    try {
      const result = orch('store', 'migrate');
      expect(result.code).not.toBe(0);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(
        new RegExp(`^orch: cannot reach PostgreSQL at 127\\.0\\.0\\.1:${cluster.port} \\(.*ECONNREFUSED.*\\): check that the server runs, listens there and lets this host in\\n$`),
      );
    } finally {
      await cluster.start();
    }
  });

  it('migrates the SQLite file of an initialised ORCH_HOME when no database URL is given', () => {
    expect(orch('init').code).toBe(0);
    const result = orch('store', 'migrate', '--json');
    expect(result.json()).toMatchObject({ database: join(home, 'orch.db'), kind: 'sqlite', applied: [] });
  });
});

describe('Orch on PostgreSQL', () => {
  it('initialises, registers and reports on the database config.yaml names', async () => {
    const url = await cluster.createDatabase(`cli_${++databases}`);
    configure(`${url}\nprojects:\n  app:\n    remote: https://example.test/app.git`);

    expect(orch('init').code).toBe(0);
    const status = orch('status', '--json');
    expect(status.stderr).toBe('');
    expect(status.json()).toMatchObject({ database: url, projects: [{ name: 'app', configured: true }] });
    expect(existsSync(join(home, 'orch.db'))).toBe(false);
  });

  it('adds, lists and offers tasks and refuses a claim by no worker, from the everyday commands', async () => {
    const url = await cluster.createDatabase(`cli_${++databases}`);
    configure(`${url}\nprojects:\n  app:\n    remote: https://example.test/app.git`);
    expect(orch('init').code).toBe(0);

    const added = orch('task', 'add', '-p', 'app', 'Kept in PostgreSQL', '--priority', 'high');
    expect(added.stderr).toBe('');
    expect(added.stdout).toMatch(/^Added #1 to app \(new\): Kept in PostgreSQL$/m);
    expect(orch('task', 'list').stdout).toMatch(/#1 +new +\d+ +app +implement +Kept in PostgreSQL/);
    expect(orch('task', 'list', '--json').json()).toMatchObject([{ id: 1, project: 'app', title: 'Kept in PostgreSQL' }]);
    expect(orch('issue', 'ready', '--json').code).toBe(0);

    process.env.ORCH_RUN_ID = 'w999999';
    try {
      const claim = orch('agent', 'claim', '1');
      expect(claim.code).toBe(2);
      expect(claim.stderr).toMatch(/^orch: .*ORCH_RUN_ID "w999999" is not a running worker\)\n$/);
    } finally {
      delete process.env.ORCH_RUN_ID;
    }
    expect(existsSync(join(home, 'orch.db'))).toBe(false);
  });
});
