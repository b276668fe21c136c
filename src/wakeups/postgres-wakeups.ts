import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { SERVER_KEEPALIVES } from '../locks/advisory-locks.js';
import { decodeWakeup, encodeWakeup, type Wakeup } from '../core/wakeup.js';
import type { ListenOptions, WakeupBus, WakeupSubscription } from './wakeup-port.js';

/** The one channel every Orch of a database notifies and listens on. */
export const WAKEUP_CHANNEL = 'orch_wakeup';

export interface PostgresWakeupOptions {
  /** First wait before reconnecting a listener; doubles up to `maxBackoffMs`. Default 100 ms. */
  minBackoffMs?: number;
  /** Default 5 s: a restarted database is heard again within seconds. */
  maxBackoffMs?: number;
  /** A notification could not be sent (the database is down); the wake-up is dropped. */
  onNotifyError?: (error: Error) => void;
}

/**
 * Wake-ups over PostgreSQL's LISTEN/NOTIFY. Notifications go out on one pooled connection (a pool
 * of one reconnects by itself after the database restarts); each listener holds a connection of its
 * own, since LISTEN belongs to a session, and makes a new one with backoff when it drops. Coming back
 * it wakes its owner once: whatever was notified while it was away is lost.
 */
export function postgresWakeups(connectionString: string, options: PostgresWakeupOptions = {}): WakeupBus {
  const pool = new pg.Pool({ connectionString, max: 1, application_name: 'orch wakeups' });
  // An idle pooled connection the server dropped: the pool discards it, the next notify makes another.
  pool.on('error', () => undefined);
  const subscriptions = new Set<WakeupSubscription>();
  let pending: Promise<void> = Promise.resolve();
  let closed = false;
  const origin = randomUUID();

  return {
    origin,
    notify(wakeup: Wakeup): void {
      if (closed) return;
      const send = () => pool.query('select pg_notify($1, $2)', [WAKEUP_CHANNEL, encodeWakeup({ ...wakeup, origin })]);
      // Once more on failure: after a database restart the pooled connection is dead until a query finds out.
      pending = pending.then(() =>
        send()
          .catch(send)
          .then(
            () => undefined,
            (error: Error) => options.onNotifyError?.(error),
          ),
      );
    },
    listen(onWakeup, listenOptions = {}) {
      const subscription = listenFor(connectionString, onWakeup, listenOptions, options);
      subscriptions.add(subscription);
      return {
        close: async () => {
          subscriptions.delete(subscription);
          await subscription.close();
        },
      };
    },
    flushed: () => pending,
    async close() {
      closed = true;
      await pending;
      await Promise.all([...subscriptions].map((s) => s.close()));
      subscriptions.clear();
      await pool.end();
    },
  };
}

function listenFor(connectionString: string, onWakeup: (wakeup: Wakeup) => void, listenOptions: ListenOptions, options: PostgresWakeupOptions): WakeupSubscription {
  const minBackoffMs = options.minBackoffMs ?? 100;
  const maxBackoffMs = options.maxBackoffMs ?? 5_000;
  let backoffMs = minBackoffMs;
  let client: pg.Client | null = null;
  let retry: NodeJS.Timeout | null = null;
  let stopped = false;
  let connections = 0;

  const connect = async (): Promise<void> => {
    retry = null;
    if (stopped) return;
    // Keepalives: a connection cut off silently is noticed, and replaced, within about half a minute.
    const current = new pg.Client({ connectionString, application_name: 'orch wakeups', keepAlive: true, keepAliveInitialDelayMillis: 10_000, options: SERVER_KEEPALIVES });
    client = current;
    let failed = false;
    const fail = (error: Error) => {
      if (failed) return;
      failed = true;
      current.removeAllListeners('notification');
      void current.end().catch(() => undefined);
      if (stopped) return;
      listenOptions.onError?.(error);
      retry = setTimeout(() => void connect(), backoffMs);
      backoffMs = Math.min(backoffMs * 2, maxBackoffMs);
    };
    current.on('error', fail);
    current.on('end', () => fail(new Error('the connection to PostgreSQL ended')));
    current.on('notification', (message) => {
      if (message.channel === WAKEUP_CHANNEL) onWakeup(decodeWakeup(message.payload));
    });
    try {
      await current.connect();
      await current.query(`listen ${WAKEUP_CHANNEL}`);
    } catch (error) {
      fail(error as Error);
      return;
    }
    if (failed || stopped) return;
    backoffMs = minBackoffMs;
    connections++;
    listenOptions.onListening?.();
    if (connections > 1) onWakeup({ kind: 'reconnected' });
  };
  void connect();

  return {
    async close() {
      stopped = true;
      if (retry) clearTimeout(retry);
      await client?.end().catch(() => undefined);
    },
  };
}
