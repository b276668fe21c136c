// A throwaway PostgreSQL cluster a test starts and stops itself: its own data directory in a temp dir,
// its own port on 127.0.0.1, trust authentication on loopback only. Tests never share a server.

import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);
const SUPERUSER = 'postgres';

export interface PostgresCluster {
  /** postgres://… of the cluster's `postgres` database. */
  readonly url: string;
  readonly port: number;
  /** Starts the server (again); it is started once already when startPostgres returns. */
  start(): Promise<void>;
  /** Stops the server, disconnecting every client; the data stays. */
  stop(): Promise<void>;
  /** Stops and starts the server on the same port, as a PostgreSQL restart in production would. */
  restart(): Promise<void>;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server if it runs and deletes everything it had. */
  destroy(): Promise<void>;
}

/** Where initdb, pg_ctl and postgres are, or a one-line error saying PostgreSQL is not installed. */
export function findPostgresBin(path = process.env['PATH'] ?? '', versionsRoot = '/usr/lib/postgresql'): string {
  const candidates = [
    ...path.split(':').filter(Boolean),
    ...listVersionDirs(versionsRoot).map((version) => join(versionsRoot, version, 'bin')),
  ];
  const found = candidates.find((dir) => ['initdb', 'pg_ctl', 'postgres'].every((name) => existsSync(join(dir, name))));
  if (!found) {
    throw new Error('PostgreSQL is not installed: no initdb, pg_ctl and postgres on PATH or under /usr/lib/postgresql/*/bin (apt-get install postgresql)');
  }
  return found;
}

/** Initialises a cluster in a fresh temp dir and starts it. */
export async function startPostgres(): Promise<PostgresCluster> {
  const bin = findPostgresBin();
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'orch-pg-'));
  // PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres system user, who
  // must be able to enter the temp dir.
  if (asRoot) chmodSync(dir, 0o711);
  const home = join(dir, 'cluster');
  const socketDir = join(home, 'socket');
  mkdirSync(socketDir, { recursive: true });
  if (asRoot) for (const path of [home, socketDir]) chownToPostgres(path);
  const dataDir = join(home, 'data');
  const logFile = join(home, 'postgres.log');
  const tool = (name: string, args: string[]) => runTool(join(bin, name), args, asRoot);

  try {
    await tool('initdb', ['-D', dataDir, '-U', SUPERUSER, '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync']);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  let port = 0;
  let running = false;

  const start = async (): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      if (port === 0) port = await freePort();
      writeFileSync(join(dataDir, 'postgresql.auto.conf'), serverSettings(port, socketDir));
      try {
        await tool('pg_ctl', ['-D', dataDir, '-l', logFile, '-w', '-t', '60', 'start']);
        running = true;
        return;
      } catch (error) {
        // Another process may have taken the port between our probe and the server's bind.
        if (attempt >= 3 || !/could not bind|Address already in use/i.test(readLog(logFile))) {
          throw new Error(`PostgreSQL did not start: ${(error as Error).message}\n${readLog(logFile)}`);
        }
        port = 0;
      }
    }
  };
  const stop = async (): Promise<void> => {
    if (!running) return;
    await tool('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', '-t', '60', 'stop']);
    running = false;
  };
  // A test process that ends without destroy() (a crash, a failed hook) leaves no server behind.
  const stopAtExit = () => {
    if (!running) return;
    const pgCtl = [join(bin, 'pg_ctl'), '-D', dataDir, '-m', 'immediate', 'stop'];
    const [command, ...args] = asRoot ? ['runuser', '-u', 'postgres', '--', ...pgCtl] : pgCtl;
    spawnSync(command!, args, { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stopAtExit);

  try {
    await start();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  const urlOf = (database: string) => `postgres://${SUPERUSER}@127.0.0.1:${port}/${database}`;
  return {
    get url() {
      return urlOf('postgres');
    },
    get port() {
      return port;
    },
    start,
    stop,
    async restart() {
      await stop();
      await start();
    },
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: urlOf('postgres') });
      await client.connect();
      try {
        await client.query(`create database ${pg.escapeIdentifier(name)}`);
      } finally {
        await client.end();
      }
      return urlOf(name);
    },
    async destroy() {
      process.removeListener('exit', stopAtExit);
      try {
        await stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

function serverSettings(port: number, socketDir: string): string {
  return [
    `port = ${port}`,
    `listen_addresses = '127.0.0.1'`,
    `unix_socket_directories = '${socketDir}'`,
    // A throwaway cluster: durability buys nothing and costs the tests time.
    'fsync = off',
    'synchronous_commit = off',
    'full_page_writes = off',
    '',
  ].join('\n');
}

async function runTool(path: string, args: string[], asRoot: boolean): Promise<void> {
  const [command, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
  try {
    await run(command, argv, { env: { ...process.env, LC_ALL: 'C' } });
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    throw new Error(`${[command, ...argv].join(' ')} failed: ${stderr?.trim() || message}`);
  }
}

function chownToPostgres(path: string): void {
  const passwd = readFileSync('/etc/passwd', 'utf8').split('\n').find((line) => line.startsWith('postgres:'));
  if (!passwd) throw new Error('running as root, PostgreSQL needs the postgres system user, which does not exist (apt-get install postgresql creates it)');
  const [, , uid, gid] = passwd.split(':');
  chownSync(path, Number(uid), Number(gid));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function listVersionDirs(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root).sort((a, b) => Number(b) - Number(a));
}

function readLog(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}
