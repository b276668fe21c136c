import pg from 'pg';
import { StoreError } from '../store.js';

/** Where a database URL points, without its password: what error messages name. */
export interface PostgresTarget {
  /** host:port, or the socket directory for a Unix-socket URL. */
  address: string;
  database: string;
  user: string;
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/**
 * bigint (ids, epoch milliseconds, fencing tokens) and numeric come back as JS numbers, as SQLite
 * gives them: the values Orch stores stay far below 2^53. Set on this pool only, not globally.
 */
const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

export function describeTarget(url: string): PostgresTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new StoreError('the database URL is not a URL: write it as postgres://user:password@host:5432/database');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new StoreError(`the database URL must start with postgres://, not ${parsed.protocol}//`);
  }
  const socketDir = parsed.searchParams.get('host');
  const host = parsed.hostname || socketDir || 'localhost';
  return {
    address: host.startsWith('/') ? host : `${host}:${parsed.port || '5432'}`,
    database: decodeURIComponent(parsed.pathname.slice(1)) || decodeURIComponent(parsed.username) || 'postgres',
    user: decodeURIComponent(parsed.username) || 'the current OS user',
  };
}

export function createPool(url: string): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    types: typeParsers,
    max: 10,
    // An unreachable host fails the call instead of hanging it.
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    // Idle connections do not keep a finished process alive.
    allowExitOnIdle: true,
  });
  // A client whose server went away emits 'error', which would crash the process unheard. An idle one
  // the pool drops by itself; one in use fails its query, which the store retries on a new client.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOENT']);
// admin_shutdown, crash_shutdown, cannot_connect_now (starting up or shutting down).
const SERVER_GONE_STATES = new Set(['57P01', '57P02', '57P03']);
const CONNECTION_MESSAGES = /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable|Connection ended/i;

/** The connection broke or could not be made: the server is down, restarting or unreachable. */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (CONNECTION_CODES.has(code) || SERVER_GONE_STATES.has(code) || code.startsWith('08'))) return true;
  return CONNECTION_MESSAGES.test(error.message);
}

/** A serialization failure or a deadlock: PostgreSQL rolled the transaction back and it may simply be run again. */
export function isTransientConflict(error: unknown): boolean {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return code === '40001' || code === '40P01';
}

/** The one-line error for a database that cannot be opened, naming where it was looked for and what to check. */
export function openFailure(error: unknown, target: PostgresTarget): StoreError {
  if (error instanceof StoreError) return error;
  const code = (error as { code?: unknown }).code;
  const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
  if (code === '28P01' || code === '28000') {
    return new StoreError(`PostgreSQL at ${target.address} refused user ${target.user} (${reason}): check the user and password in the database URL`);
  }
  if (code === '3D000') {
    return new StoreError(`PostgreSQL at ${target.address} has no database "${target.database}": create it (createdb ${target.database}) or fix the database URL`);
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new StoreError(`cannot resolve the PostgreSQL host ${target.address} (${reason}): check the host in the database URL`);
  }
  if (isConnectionError(error)) {
    return new StoreError(`cannot reach PostgreSQL at ${target.address} (${reason}): check that the server runs, listens there and lets this host in`);
  }
  return new StoreError(`cannot open PostgreSQL database "${target.database}" at ${target.address}: ${reason}`);
}
