import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { withProviderLock, withSharedLock } from '../../src/engine/locks.js';
import { advisoryLockId, advisoryLocks, SERVER_KEEPALIVES, type AdvisoryHeldLock } from '../../src/locks/advisory-locks.js';
import type { LockProvider } from '../../src/locks/lock-port.js';
import { tempDir } from '../helpers/git.js';
import { startPostgres, type PostgresCluster } from '../rig/postgres.js';

const contenderPath = fileURLToPath(new URL('./fixtures/advisory-contender.mjs', import.meta.url));
const compiled = fileURLToPath(new URL('../../dist/locks/advisory-locks.js', import.meta.url));

let cluster: PostgresCluster;
let url: string;
let scratch: { path: string; cleanup: () => void };
const providers: LockProvider[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  if (!existsSync(compiled)) throw new Error(`${compiled} is missing: run \`npm run build\` before this test`);
  cluster = await startPostgres();
  url = await cluster.createDatabase('locks');
}, 120_000);
afterAll(async () => {
  await cluster?.destroy();
});
beforeEach(() => {
  scratch = tempDir('orch-advisory-');
});
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await Promise.all(providers.splice(0).map((p) => p.close()));
  scratch.cleanup();
});

/** A provider as one host would have it: its own connections. */
function host(): LockProvider {
  const provider = advisoryLocks(url);
  providers.push(provider);
  return provider;
}

function contender(args: string[]): ChildProcess {
  const child = fork(contenderPath, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
  children.push(child);
  return child;
}
const message = (child: ChildProcess, type: string) =>
  new Promise<void>((resolve, reject) => {
    child.on('message', (m: { type: string }) => m.type === type && resolve());
    child.once('exit', (code, signal) => reject(new Error(`contender exited (${signal ?? code}) before ${type}`)));
  });
const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve)));

/** Who holds advisory locks now, as PostgreSQL sees it. */
async function advisoryHolders(): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<{ n: string }>("select count(*) as n from pg_locks where locktype = 'advisory' and granted");
    return Number(result.rows[0]!.n);
  } finally {
    await client.end();
  }
}

/** Resolves once some session waits for an advisory lock (a waiter is queued in the server). */
async function someoneWaits(): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (;;) {
      const result = await client.query<{ n: string }>("select count(*) as n from pg_locks where locktype = 'advisory' and not granted");
      if (Number(result.rows[0]!.n) > 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await client.end();
  }
}

describe('advisory lock ids', () => {
  it('are stable 64-bit numbers, one per key', () => {
    // Pinned: a changed id would let two Orch versions run the same section at once.
    expect(advisoryLockId('merge:shop')).toBe(advisoryLockId('merge:shop'));
    expect(advisoryLockId('merge:shop')).toBe('-2593776010511036684');
    expect(advisoryLockId('merge:shop')).not.toBe(advisoryLockId('merge:shoq'));
    const id = BigInt(advisoryLockId('deliver:https://example.invalid/x.git'));
    expect(id >= -(2n ** 63n) && id < 2n ** 63n).toBe(true);
  });
});

describe('advisory locks', () => {
  it('keep a second host out while one holds the key, and let it in when released; other keys stay free', async () => {
    const [a, b] = [host(), host()];
    const log: string[] = [];
    let release!: () => void;
    const holding = withProviderLock(a, 'merge:shop', async () => {
      log.push('a in');
      await new Promise<void>((r) => (release = r));
      log.push('a out');
    });
    while (log.length === 0) await new Promise((r) => setTimeout(r, 5));
    const waiting = withProviderLock(b, 'merge:shop', async () => log.push('b in'));
    await someoneWaits();
    await expect(withProviderLock(b, 'merge:other', async () => 'free')).resolves.toBe('free');
    expect(log).toEqual(['a in']);
    release();
    await Promise.all([holding, waiting]);
    expect(log).toEqual(['a in', 'a out', 'b in']);
    expect(await advisoryHolders()).toBe(0);
  });

  it('are released when the section throws', async () => {
    const [a, b] = [host(), host()];
    await expect(withProviderLock(a, 'merge:x', () => Promise.reject(new Error('git failed')))).rejects.toThrow('git failed');
    await expect(withProviderLock(b, 'merge:x', async () => 'next')).resolves.toBe('next');
    expect(await advisoryHolders()).toBe(0);
  });

  it('queue calls of one process in order, on one connection at a time', async () => {
    const a = host();
    const log: string[] = [];
    const step = (name: string) => async () => {
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, 10));
      log.push(`end ${name}`);
    };
    await Promise.all([withProviderLock(a, 'merge:q', step('1')), withProviderLock(a, 'merge:q', step('2')), withProviderLock(a, 'merge:q', step('3'))]);
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
  });

  it('never let two processes inside at once', async () => {
    const file = join(scratch.path, 'log.txt');
    const racers = [contender(['append', url, 'merge:shop', file, '25']), contender(['append', url, 'merge:shop', file, '25'])];
    await Promise.all(racers.map((r) => message(r, 'ready')));
    for (const r of racers) r.send({ type: 'go' });
    expect(await Promise.all(racers.map(exited))).toEqual([0, 0]);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(100);
    for (let i = 0; i < lines.length; i += 2) {
      const pid = lines[i]!.split(' ')[1];
      expect([lines[i], lines[i + 1]]).toEqual([`start ${pid}`, `end ${pid}`]);
    }
    expect(new Set(lines.map((l) => l.split(' ')[1])).size).toBe(2);
  });

  it('are let go the moment their holder is killed: a crashed host leaves nothing behind', async () => {
    const holder = contender(['hold', url, 'merge:crash']);
    await message(holder, 'held');
    let entered = false;
    const waiting = withProviderLock(host(), 'merge:crash', async () => {
      entered = true;
    });
    await someoneWaits();
    expect(entered).toBe(false);
    holder.kill('SIGKILL');
    await exited(holder);
    await waiting;
    expect(entered).toBe(true);
  });

  it('say they are lost when the connection holding them drops, and the others get in', async () => {
    const a = host();
    const held = (await a.acquire('merge:drop')) as AdvisoryHeldLock;
    expect(held.lost).toBe(false);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query("select pg_terminate_backend(pid) from pg_locks where locktype = 'advisory' and granted");
    await admin.end();
    await expect(withProviderLock(host(), 'merge:drop', async () => 'in')).resolves.toBe('in');
    while (!held.lost) await new Promise((r) => setTimeout(r, 10));
    await held.release();
  });

  it('wait for a server that is restarting rather than fail the section they guard', async () => {
    await cluster.stop();
    const taking = withProviderLock(host(), 'merge:restart', async () => 'in');
    await new Promise((r) => setTimeout(r, 500));
    await cluster.start();
    await expect(taking).resolves.toBe('in');
  });

  it('ask the server to probe their connections, so a host cut off silently gives its locks up soon', async () => {
    const client = new pg.Client({ connectionString: url, options: SERVER_KEEPALIVES });
    await client.connect();
    try {
      const shown = await client.query<{ idle: string; interval: string; count: string }>(
        "select current_setting('tcp_keepalives_idle') as idle, current_setting('tcp_keepalives_interval') as interval, current_setting('tcp_keepalives_count') as count",
      );
      expect(shown.rows[0]).toEqual({ idle: '10', interval: '5', count: '3' });
    } finally {
      await client.end();
    }
  });

  it('are what withSharedLock takes when Orch has them, and file locks of the home otherwise', async () => {
    const sharedLocks = host();
    const seen: number[] = [];
    await withSharedLock({ home: scratch.path, sharedLocks }, 'merge:shop', async () => {
      seen.push(await advisoryHolders());
    });
    await withSharedLock({ home: scratch.path }, 'merge:shop', async () => {
      seen.push(await advisoryHolders());
    });
    expect(seen).toEqual([1, 0]);
    expect(existsSync(join(scratch.path, 'locks'))).toBe(true);
  });
});
