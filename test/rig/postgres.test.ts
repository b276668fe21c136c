import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPostgresBin, startPostgres, type PostgresCluster } from './postgres.js';

async function selectOne(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return ((await client.query('select 1 as one')).rows[0] as { one: number }).one;
  } finally {
    await client.end();
  }
}

describe('throwaway PostgreSQL cluster', () => {
  let cluster: PostgresCluster;
  beforeAll(async () => {
    cluster = await startPostgres();
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('serves a database of its own on loopback, and again after a restart on the same port', async () => {
    const url = await cluster.createDatabase('rig_check');
    expect(url).toBe(`postgres://postgres@127.0.0.1:${cluster.port}/rig_check`);
    expect(await selectOne(url)).toBe(1);
    const port = cluster.port;
    await cluster.restart();
    expect(cluster.port).toBe(port);
    expect(await selectOne(url)).toBe(1);
  });

  it('refuses connections while stopped', async () => {
    await cluster.stop();
    await expect(selectOne(cluster.url)).rejects.toThrow(/ECONNREFUSED/);
    await cluster.start();
    expect(await selectOne(cluster.url)).toBe(1);
  });
});

describe('finding PostgreSQL', () => {
  it('says in one line that it is not installed when neither PATH nor /usr/lib/postgresql has it', () => {
    expect(() => findPostgresBin('/nowhere/bin', '/nowhere/postgresql')).toThrow(
      /^PostgreSQL is not installed: no initdb, pg_ctl and postgres on PATH or under \/usr\/lib\/postgresql\/\*\/bin \(apt-get install postgresql\)$/,
    );
  });
});
